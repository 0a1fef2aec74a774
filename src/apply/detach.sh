# shellcheck shell=sh
# Runs the apply batch detached from the SSH session, so a controller killed or a connection
# dropped at any moment of an apply cannot cut it off half-way: once the whole batch is on the
# host it runs to its end by itself (writes, restart, health check, and the rollback when that
# fails), and the next run reads how it ended.
#
# Input, on stdin: one line `program=A ops=N`, then A bytes of apply.sh, then N bytes of its
# operations (src/apply/encode-ops.ts). Both are spooled into root's $D (0700;
# HERMES_FLEET_SPOOL, for the local tests only, names another), under names of this batch's own
# (two runs may reach the host at once: each spools its own, and the lock, the batch's first
# operation, lets one of them change the host); a batch that did not arrive whole is never
# started. apply.sh then runs in its own session (setsid), its stdin the spooled operations
# (removed once opened: they may hold secrets), its output in the batch's own result file, which
# this program streams back while the session lasts. Ctrl-C (SIGINT) is passed on to the batch.
# A batch that takes the lock points $D/result at its result file (HERMES_FLEET_RESULT tells it
# where), so the host's last word is the last batch's. One that ended with its session alive
# removes its result; one whose session ended first leaves it, and the next run's read reports
# it (src/runner/cut-off.ts) until a later batch points $D/result elsewhere.
export LC_ALL=C
D=${HERMES_FLEET_SPOOL:-/var/lib/hermes-fleet/apply}
umask 077
mkdir -p -- "$D" || exit 125
chmod 0700 -- "$D" || exit 125
P=$D/apply.$$.sh
O=$D/ops.$$
R=$D/result.$$
rm -f -- "$R"
IFS=' ' read -r p o || exit 125
p=${p#program=}
o=${o#ops=}
case $p$o in '' | *[!0-9]*) echo "bad batch header" >&2; exit 125 ;; esac
# A session that breaks while the batch arrives leaves no part of it (it may hold secrets).
trap 'rm -f -- "$O" "$P"; exit 129' HUP TERM PIPE
rm -f -- "$O" "$P"
if ! head -c "$p" >"$P" || ! head -c "$o" >"$O"; then
  rm -f -- "$O" "$P"
  exit 125
fi
if [ "$(stat -c %s -- "$P")" != "$p" ] || [ "$(stat -c %s -- "$O")" != "$o" ]; then
  rm -f -- "$O" "$P"
  echo "the batch did not arrive whole: nothing was applied" >&2
  exit 125
fi
trap - HUP TERM PIPE
: >"$R"
# SC2016: expanded by the detached shell, on purpose; SC2094: $R is only its name, as an argument.
# shellcheck disable=SC2016,SC2094
setsid /bin/sh -c 'exec <"$2" && rm -f -- "$2" && program=$(cat -- "$1") && rm -f -- "$1" &&
  HERMES_FLEET_RESULT=$3 && export HERMES_FLEET_RESULT && exec /bin/sh -c "$program" hermes-fleet "$program"' \
  detach "$P" "$O" "$R" >>"$R" 2>&1 </dev/null &
pid=$!
# Streamed from a background tail, so that a Ctrl-C is passed on at once (a trap waits for a
# foreground command): wait returns early when INT arrives, hence the loops.
tail -n +1 -s 0.1 -f --pid="$pid" -- "$R" &
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
# $D/result, when it points here, then dangles: the read takes that as no word at all.
[ "$trc" != 0 ] || rm -f -- "$R"
exit "$rc"
