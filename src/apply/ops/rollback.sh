# shellcheck shell=sh
# ops/rollback.sh (part of apply.sh): the batch's own operations, never planned: undo (a path
# put back as save_before kept it) and discard (a kept copy removed), and their callers:
# roll_back (fail calls it when the restart or its health check failed: the journal replayed
# newest first, the unit started and checked again) and discard_all (cleanup: the kept copies
# of a batch that needs no rollback removed).

# Puts $path back as save_before found it (`was`).
op_undo() {
  pin "cannot put $path back"
  case $was in
  file)
    run mv -Tf -- "$from" "$b"
    open5 "$b" "$path" f
    # An attrs operation changed the kept inode itself: its owner and mode go back too.
    if [ "$(stat -L -c '%a:%u:%g' /proc/self/fd/5)" != "$mode:$user:$group" ]; then
      run chown -- "$user:$group" /proc/self/fd/5
      run chmod -- "0$mode" /proc/self/fd/5
    fi
    exec 5>&-
    ;;
  link) relink ;;
  dir)
    open5 "$b" "$path" d
    run chown -- "$user:$group" /proc/self/fd/5
    run chmod -- "0$mode" /proc/self/fd/5
    exec 5>&-
    ;;
  absent)
    # A directory this run made goes only when empty: anything in it is someone's.
    if [ -d "$b" ] && [ ! -L "$b" ]; then
      rmdir -- "$b" 2>/dev/null || true
    else
      run rm -f -- "$b"
    fi
    ;;
  esac
}

# A batch that needs no rollback removes what save_before kept.
op_discard() {
  [ -n "$from" ] || return 0
  pin
  run rm -f -- "$from"
}

# Every kept file removed, each by the actor that kept it; failures are left to the next run
# (its dirs task removes `.hermes-fleet.*` leftovers).
discard_each() {
  undoing=1
  trap - EXIT
  trap '' INT HUP PIPE
  while IFS= read -r jl <&4; do
    case $jl in "undo$T"*) ;; *) continue ;; esac
    line="-${T}discard$T${jl#"undo$T"}"
    parse "$line"
    (dispatch) || true
  done 4<"$journal"
}
discard_all() {
  [ -s "$journal" ] || return 0
  (discard_each) >/dev/null 2>&1 </dev/null || true
}

# The restart or health check after the changes failed: the unit stopped (by the definition that
# started it), every journalled operation replayed newest first, systemd reloaded, the unit
# started and checked again. In a subshell, so a failure of the rollback ends it alone; nothing
# stops it half-way (Ctrl-C or a lost connection).
replay_journal() {
  undoing=1
  trap - EXIT
  trap '' INT HUP PIPE
  i=rollback
  run systemctl stop -- "$h_unit"
  rev=$(tac -- "$journal")
  while IFS= read -r jl <&4; do
    line="rollback$T$jl"
    parse "$line"
    dispatch
  done 4<<REV
$rev
REV
  run systemctl daemon-reload
  run systemctl start -- "$h_unit"
  unit=$h_unit seconds=$h_seconds user=$h_user rollback=
  check_health
}
roll_back() {
  # Said first, so the controller's timeline can tell the failed check from the rollback.
  printf 'rollback\tbegin\n'
  h_unit=$unit h_seconds=$seconds h_user=$user
  said=$( (replay_journal) </dev/null 2>&1)
  why=
  while IFS= read -r said_line; do
    case $said_line in "rollback${T}fail$T"*) why=${said_line#"rollback${T}fail$T"} ;; esac
  done <<SAID
$said
SAID
  if [ -n "$why" ]; then
    printf 'rollback\tfail\t%s\n' "$why"
  else
    printf 'rollback\tok\n'
  fi
  # What the rollback put back is no longer kept; nothing is left to discard or replay.
  rm -f -- "$journal"
  journal=
}
