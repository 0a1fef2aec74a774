# shellcheck shell=sh
# Runs the apply batch detached from the SSH session, so a controller killed or a connection
# dropped at any moment of an apply cannot cut it off half-way: once the whole batch is on the
# host it runs to its end by itself (writes, restart, health check, and the rollback when that
# fails), and the next run reads how it ended.
#
# Input, on stdin: one line `program=A ops=N`, then A bytes of apply.sh, then N bytes of its
# operations (src/apply/encode-ops.ts). Both are spooled into root's $D (0700;
# HERMES_FLEET_SPOOL, for the local tests only, names another) first; a batch
# that did not arrive whole is never started. apply.sh then runs in its own session (setsid),
# its stdin the spooled operations (removed once opened: they may hold secrets), its output in
# $D/result, which this program streams back while the session lasts. Ctrl-C (SIGINT) is passed
# on to the batch. A batch that ended with its session alive removes $D/result; one whose session
# ended first leaves it, and the next run's read reports it (src/runner/cut-off.ts) until a later
# batch replaces it.
export LC_ALL=C
D=${HERMES_FLEET_SPOOL:-/var/lib/hermes-fleet/apply}
umask 077
mkdir -p -- "$D" || exit 125
chmod 0700 -- "$D" || exit 125
B=$D
rm -f -- "$B/result"
IFS=' ' read -r p o || exit 125
p=${p#program=}
o=${o#ops=}
case $p$o in '' | *[!0-9]*) echo "bad batch header" >&2; exit 125 ;; esac
# A session that breaks while the batch arrives leaves no part of it (it may hold secrets).
trap 'rm -f -- "$B/ops"; exit 129' HUP TERM PIPE
rm -f -- "$B/ops"
if ! head -c "$p" >"$B/apply.sh" || ! head -c "$o" >"$B/ops"; then
  rm -f -- "$B/ops"
  exit 125
fi
if [ "$(stat -c %s -- "$B/apply.sh")" != "$p" ] || [ "$(stat -c %s -- "$B/ops")" != "$o" ]; then
  rm -f -- "$B/ops"
  echo "the batch did not arrive whole: nothing was applied" >&2
  exit 125
fi
trap - HUP TERM PIPE
: >"$B/result"
# shellcheck disable=SC2016 # expanded by the detached shell, on purpose
setsid /bin/sh -c 'exec <"$2" && rm -f -- "$2" && program=$(cat -- "$1") && exec /bin/sh -c "$program" hermes-fleet "$program"' \
  detach "$B/apply.sh" "$B/ops" >>"$B/result" 2>&1 </dev/null &
pid=$!
# Streamed from a background tail, so that a Ctrl-C is passed on at once (a trap waits for a
# foreground command): wait returns early when INT arrives, hence the loops.
tail -n +1 -s 0.1 -f --pid="$pid" -- "$B/result" &
tpid=$!
trap 'kill -INT "$pid" 2>/dev/null' INT
while :; do
  wait "$tpid"
  trc=$?
  kill -0 "$tpid" 2>/dev/null || break
done
while :; do
  wait "$pid"
  rc=$?
  kill -0 "$pid" 2>/dev/null || break
done
# Streamed whole: the controller has it. Otherwise (the session broke) it stays for the next run.
[ "$trc" != 0 ] || rm -f -- "$B/result"
exit "$rc"
