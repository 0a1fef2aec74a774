# shellcheck shell=sh
# ops/lock.sh (part of apply.sh): the host's lock, the first operation of every batch that
# changes a host (run, rollback, restart). Offers op_lock; sets $lock_path (lib/batch.sh's
# cleanup clears the lock file as the batch ends) and points detach.sh's `result` at this
# batch's output.

# The lock operation: one batch at a time changes this host (src/runner/host-lock.ts). An flock on
# root's $path, taken on fd 9 and held until this program exits (the kernel lets go then,
# however it ends; the children it starts end before it). The file says who holds it: the run's
# lines (the body: who, command, pid on the controller) and this batch's pid, start and boot. A
# batch that ends clears it, so a filled file whose flock is free was left by a holder that is
# gone (killed, or the host rebooted): taken over, and said. The serial beside it counts the
# batches: one that differs from what the run read means another batch ran since, so this run's
# plan is stale and nothing is changed. Waits up to $seconds for a holder to finish (a reader's
# probe holds a shared lock for an instant: hence never less than 2).
op_lock() {
  holder=$(head -c "$size")
  d=${path%/*}
  [ -d "$d" ] || run mkdir -p -m 0755 -- "$d"
  # Read and write: the opening neither truncates nor replaces it (the flock is on the inode).
  command exec 9<>"$path" || fail "cannot open the lock $path"
  flock -x -E 75 -w "${seconds:-2}" 9 </dev/null 2>/dev/null
  rc=$?
  if [ "$rc" = 75 ]; then
    # A holder writes its name right after it takes the lock: give it that instant.
    n=0
    while [ ! -s "$path" ] && [ "$n" -lt 10 ]; do
      sleep 0.1
      n=$((n + 1))
    done
    printf 'lock\tbusy\t%s\n' "$(head -c 4096 -- "$path" </dev/null | base64 -w0)"
    fail "this host is locked by another run"
  fi
  [ "$rc" = 0 ] || fail "flock $path failed (exit $rc)"
  was=$(head -c 4096 -- "$path" </dev/null)
  boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null </dev/null)
  # Named at once (whoever finds it held reads who), and cleared however this batch ends.
  lock_path=$path
  {
    printf '%s\n' "$holder"
    printf 'batch=%s\nsince=%s\nepoch=%s\nboot=%s\n' "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      "$(date +%s)" "$boot"
  } >"$path" || fail "cannot write the lock $path"
  if [ -n "$was" ]; then
    printf 'lock\ttook-over\t%s\t%s\n' "$(printf '%s' "$was" | base64 -w0)" "$boot"
  fi
  cur=$(cat -- "$d/serial" 2>/dev/null </dev/null) || cur=
  case $cur in '' | *[!0-9]*) cur=0 ;; esac
  if [ -n "$serial" ] && [ "$serial" != "$cur" ]; then
    printf 'lock\tmoved\t%s\n' "$cur"
    fail "another run changed this host since this run read it"
  fi
  { printf '%s\n' "$((cur + 1))" >"$d/.serial.new" && mv -f -- "$d/.serial.new" "$d/serial"; } ||
    fail "cannot write $d/serial"
  # This batch's output becomes the host's last word (detach.sh): the previous word, which the
  # run's read has reported, goes.
  if [ -n "${HERMES_FLEET_RESULT-}" ]; then
    rd=${HERMES_FLEET_RESULT%/*}
    old=$(readlink -- "$rd/result" 2>/dev/null </dev/null) || old=
    { ln -sfn -- "${HERMES_FLEET_RESULT##*/}" "$rd/.result.new" &&
      mv -Tf -- "$rd/.result.new" "$rd/result"; } || fail "cannot point $rd/result at this batch"
    case $old in result.[0-9]*) [ "$rd/$old" = "$HERMES_FLEET_RESULT" ] || rm -f -- "${rd:?}/$old" ;; esac
    # What sessions that are gone left there (a result no batch of theirs linked, a spool cut off
    # before it started: it may hold secrets): nobody will read it. Those of a detach.sh that is
    # alive are its own to remove.
    for f in "$rd"/result.* "$rd"/ops.* "$rd"/apply.*.sh; do
      [ -e "$f" ] || continue
      p=${f##*/}
      p=${p#result.}
      p=${p#ops.}
      p=${p#apply.}
      p=${p%.sh}
      case $p in '' | *[!0-9]*) continue ;; esac
      [ -d "/proc/$p" ] || rm -f -- "$f"
    done
  fi
  printf 'lock\ttaken\t%s\n' "$(base64 -w0 <"$path")"
}
