# shellcheck shell=sh
# lib/journal.sh (part of apply.sh): what the rollback needs, kept before an operation changes
# anything. Offers: remember LINE (an undo operation into root's journal in /run, or said to the
# parent by an account's child) and save_before (what is at $path now, kept and journalled as
# the `undo` operation that puts it back). ops/rollback.sh replays and discards the journal.

# An undo operation (`OP<TAB>fields`) for the rollback. Root's batch keeps it in its journal; a
# child running as the account says it on its stdout, and its parent keeps it.
remember() {
  [ -z "$undoing" ] || return 0
  if [ "$failed" = 3 ]; then
    printf 'undo\t%s\n' "$1"
    return
  fi
  if [ -z "$journal" ]; then
    journal=$(mktemp /run/hermes-fleet-undo.XXXXXX 2>&1 </dev/null) || {
      journal=
      fail "cannot create the rollback journal in /run"
    }
  fi
  printf '%s\n' "$1" >>"$journal" || fail "cannot write the rollback journal $journal"
}

# Before an operation changes $path: what is there now, journalled as the `undo` operation that
# puts it back, by the same actor. A regular file is kept whole under a new name in its own
# directory (a hard link: its bytes, owner and mode stay as they are, whatever replaces the name);
# a link by its target; a directory by owner and mode; nothing by its absence.
save_before() {
  pin "cannot keep $path for a rollback"
  rec="undo${T}path=$path"
  [ -z "$as" ] || rec="$rec${T}as=$as"
  [ -z "$tree" ] || rec="$rec${T}tree=$tree"
  if [ -L "$b" ]; then
    t=$(readlink -- "$b" </dev/null) || fail "cannot read the link $path"
    case $t in *"$T"* | *"$NL"*) fail "$path links to a name with a tab or newline: cannot keep it for a rollback" ;; esac
    rec="$rec${T}was=link${T}target=$t"
  elif [ -f "$b" ]; then
    kept=.hermes-fleet.undo.$$.$i
    # -P: a name swapped for a link since the test is kept as that link, never followed.
    ln -P -- "$b" "$kept" 2>/dev/null || run cp -P -p -- "$b" "$kept"
    a=$(stat -c "mode=%a${T}user=%u${T}group=%g" -- "$kept" </dev/null) || fail "cannot stat $path"
    rec="$rec${T}was=file${T}from=$kept$T$a"
  elif [ -d "$b" ]; then
    a=$(stat -c "mode=%a${T}user=%u${T}group=%g" -- "$b" </dev/null) || fail "cannot stat $path"
    rec="$rec${T}was=dir$T$a"
  elif [ -e "$b" ]; then
    fail "$path is not a file, a link or a directory: it cannot be kept for a rollback"
  else
    rec="$rec${T}was=absent"
  fi
  remember "$rec"
}
