# shellcheck shell=sh
# The host side of the line protocol (src/exec/line-field.ts writes the lines), shared by the
# host programs that read one: src/facts/read.sh and src/apply/apply.sh (their program.ts joins
# this part in). A line is `INDEX<TAB>NAME<TAB>field=value<TAB>...`, named fields in any order.
#
# Offers: parse LINE. It sets $i (the index), $op (the name) and one variable per field named in
# the program's $FIELDS (a space-separated list); the program's fields_empty empties them all
# first, so nothing is left from the line before. It touches no other variable but $f and
# $field. A field not in $FIELDS is refused: `fail "unknown field NAME in $WHAT OP"` (each
# program has its own fail). $T must hold a tab.
parse() {
  fields_empty
  set -f
  IFS=$T
  # shellcheck disable=SC2086 # split on tabs on purpose, globbing is off
  set -- $1
  IFS=' 	
'
  set +f
  i=$1 op=$2
  shift 2
  for f; do
    field=${f%%=*}
    # eval only ever sees a name from $FIELDS; the value is assigned, never evaluated.
    case $field in
    "$f" | '' | *[!a-z0-9]*) ;;
    *)
      case " $FIELDS " in *" $field "*)
        eval "$field=\${f#*=}"
        continue
        ;;
      esac
      ;;
    esac
    fail "unknown field $field in $WHAT $op"
  done
}
