# shellcheck shell=sh
# ops/service.sh (part of apply.sh): the unit's operations: systemd (daemon-reload, enable,
# restart...), restart-pending (root's note in /run), wait-healthy. Offers check_health (the
# unit active and steady, then the health command) to ops/rollback.sh.

op_systemd() {
  if [ "$action" = daemon-reload ]; then
    run systemctl daemon-reload
  else
    run systemctl "$action" -- "$unit"
  fi
}

# The note is root's, in /run: `set` writes the body that follows, `clear` removes it.
op_restart_pending() {
  if [ "$action" = set ]; then op_file; else op_remove; fi
}

op_wait_healthy() {
  cmd=
  if [ "${size:-0}" -gt 0 ]; then cmd=$(head -c "$size"); fi
  check_health
}

journal() { journalctl -u "$1" -n 20 --no-pager -o short-iso 2>&1 </dev/null; }
unit_failure() {
  printf '%s is %s, not active\n--- last log lines ---\n%s' "$1" "$2" "$(journal "$1")"
}

# After a (re)start: active, and still the same process with no restart `seconds` later; then
# the health command ($cmd, the operation's body), when there is one, exits 0 as `user`.
check_health() {
  n=0
  while :; do
    s=$(systemctl is-active -- "$unit" </dev/null)
    [ "$s" = active ] && break
    n=$((n + 1))
    if [ "$s" = failed ] || [ "$n" -ge 300 ]; then fail "$(unit_failure "$unit" "$s")"; fi
    sleep 0.1
  done
  p1=$(systemctl show -p MainPID --value -- "$unit" </dev/null)
  r1=$(systemctl show -p NRestarts --value -- "$unit" </dev/null)
  sleep "$seconds"
  s=$(systemctl is-active -- "$unit" </dev/null)
  p2=$(systemctl show -p MainPID --value -- "$unit" </dev/null)
  r2=$(systemctl show -p NRestarts --value -- "$unit" </dev/null)
  if [ "$s" != active ] || [ "$p1" != "$p2" ] || [ "$r1" != "$r2" ]; then
    fail "$(unit_failure "$unit" "$s (it did not stay up for $seconds s)")"
  fi
  if [ -n "$cmd" ]; then
    # Without fd 9: something the command leaves running must not hold the lock.
    o=$(cd / && runuser -u "$user" -- /bin/sh -c "$cmd" </dev/null 2>&1 9>&-) || {
      rc=$?
      [ -z "$o" ] || o=": $o"
      fail "$(printf 'health check command failed as %s (exit %s)%s\n--- last log lines ---\n%s' "$user" "$rc" "$o" "$(journal "$unit")")"
    }
  fi
}
