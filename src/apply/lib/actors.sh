# shellcheck shell=sh
# lib/actors.sh (part of apply.sh): who carries out an operation. Offers: dispatch (the
# operation parsed last, here as root or, with `as=USER`, in a child of this same program
# started with setpriv as that account), run_op (what the rollback needs kept first, then the
# operation) and apply_op, which runs operation NAME as the function op_NAME (dashes as
# underscores) of its ops module: an operation is added by writing that one function.

# One operation, parsed into variables: the names are the plan's change kinds.
apply_op() {
  case $op in '' | *[!a-z-]*) fail "unknown operation $op" ;; esac
  fn_name=op_
  fn_rest=$op
  while :; do
    case $fn_rest in
    *-*)
      fn_name=$fn_name${fn_rest%%-*}_
      fn_rest=${fn_rest#*-}
      ;;
    *)
      fn_name=$fn_name$fn_rest
      break
      ;;
    esac
  done
  command -v "$fn_name" >/dev/null 2>&1 || fail "unknown operation $op"
  "$fn_name"
}

# The operation parsed last, with what the rollback needs kept first.
run_op() {
  case $undo in
  path) save_before ;;
  repeat)
    rest=${line#*"$T"}
    remember "$op$T${rest#*"$T"}"
    ;;
  esac
  apply_op
}

# In a child started for an `as=` operation: $2 is that operation's header line.
if [ -n "${2-}" ]; then
  failed=3
  line=$2
  parse "$line"
  run_op
  exit 0
fi

# The group of each account an operation runs as, looked up once.
as_user=
as_group=

# Runs the operation parsed last from header $line: here, or with `as=` in a child as that
# account, whose undo lines are journalled here.
dispatch() {
  if [ -z "$as" ]; then
    run_op
    return
  fi
  if [ "$as" != "$as_user" ]; then
    as_group=$(id -g -- "$as" 2>/dev/null </dev/null) || fail "user $as does not exist"
    as_user=$as
  fi
  # The same program, run as the account: an empty $SELF would run nothing and report ok.
  [ -n "$SELF" ] || fail "cannot run as $as: the program did not get its own text"
  # The child never holds root's stdin or stdout (it could read ahead into the operations
  # that follow, or print their answers): it gets its own body on a pipe, and what it says
  # comes back here, where only its own failure line and undo lines are passed on.
  if [ "${size:-0}" -gt 0 ]; then
    # Never fd 9, root's lock: the account's process must not hold or reach it.
    said=$(head -c "$size" | setpriv --reuid="$as" --regid="$as_group" --init-groups -- \
      /bin/sh -c "$SELF" hermes-fleet "$SELF" "$line" 2>&1 9>&-)
  else
    said=$(setpriv --reuid="$as" --regid="$as_group" --init-groups -- \
      /bin/sh -c "$SELF" hermes-fleet "$SELF" "$line" </dev/null 2>&1 9>&-)
  fi
  rc=$?
  why=
  while IFS= read -r said_line; do
    case $said_line in
    "$i${T}fail$T"*) why=${said_line#"$i${T}fail$T"} ;;
    "undo$T"*) [ "$rc" != 0 ] || remember "${said_line#"undo$T"}" ;;
    esac
  done <<SAID
$said
SAID
  if [ "$rc" != 0 ]; then
    if [ "$rc" = 3 ] && [ -n "$why" ]; then
      printf '%s\tfail\t%s\n' "$i" "$why"
      exit 1
    fi
    fail "running as $as failed (exit $rc): $said"
  fi
}
