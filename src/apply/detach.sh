# shellcheck shell=sh
# Runs the apply batch detached from the SSH session, so a controller killed or a connection
# dropped at any moment of an apply cannot cut it off half-way: once the whole batch is on the
# host it runs to its end by itself (writes, restart, health check, and the rollback when that
# fails), and the next run reads how it ended.
#
# Input, on stdin: one line `program=A ops=N stage=K`, then A bytes of apply.sh, then N bytes of
# its operations (src/apply/encode-ops.ts), then K release uploads, each a line
# `size=S sha256=H format=F strip=T` and its S bytes. A release upload is unpacked as it
# arrives into $D/stage.PID/H (tar and sha256sum reading the one stream, as ops/release.sh
# does), not spooled: the archive crosses the host's disk once, and its unpack overlaps its
# transfer. Its release-unpack operation (`staged=1`) then checks what was staged and renames
# it; the batch removes the stage when it ends. The program and operations are spooled into
# root's $D (0700;
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
S=$D/stage.$$
IFS=' ' read -r p o k || exit 125
p=${p#program=}
o=${o#ops=}
k=${k#stage=}
k=${k:-0}
case $p$o$k in '' | *[!0-9]*) echo "bad batch header" >&2; exit 125 ;; esac
# A stage a crashed host left (a session that broke removes its own, below).
find "$D" -maxdepth 1 -name 'stage.*' -mmin +1440 -exec rm -rf -- {} + 2>/dev/null
# A session that breaks while the batch arrives leaves no part of it (it may hold secrets).
trap 'rm -f -- "$O" "$P"; rm -rf -- "$S"; exit 129' HUP TERM PIPE
rm -f -- "$O" "$P"
rm -rf -- "$S"
short() {
  rm -f -- "$O" "$P"
  rm -rf -- "$S"
  echo "the batch did not arrive whole: nothing was applied" >&2
  exit 125
}
if ! head -c "$p" >"$P" || ! head -c "$o" >"$O"; then
  rm -f -- "$O" "$P"
  exit 125
fi
if [ "$(stat -c %s -- "$P")" != "$p" ] || [ "$(stat -c %s -- "$O")" != "$o" ]; then short; fi
# Each upload unpacked as it arrives; what tar and sha256sum said is kept for its operation,
# which judges it (a corrupt upload that arrived whole fails that operation, as in the batch).
# How many bytes arrived decides here: fewer than announced and nothing starts.
[ "$k" = 0 ] || mkdir -m 0700 -- "$S" || exit 125
# One upload from stdin into $u: sha256sum and wc read the fifos, tar the rest; tar's words
# and the exit code of the pipeline (tar's) are kept for its operation.
stage_upload() {
  # shellcheck disable=SC2086 # $z is one option or none
  tee -p -- "$u/sum.fifo" "$u/count.fifo" | (umask 022 && tar -x $z --file - \
    --directory "$u/tree" --no-same-owner --no-same-permissions --strip-components="$t") \
    >"$u/tar.out" 2>&1
}
while [ "$k" -gt 0 ]; do
  k=$((k - 1))
  IFS=' ' read -r s h f t || short
  s=${s#size=}
  h=${h#sha256=}
  f=${f#format=}
  t=${t#strip=}
  case $s$t in '' | *[!0-9]*) echo "bad stage header" >&2; short ;; esac
  case $h in *[!0-9a-f]* | '') echo "bad stage header" >&2; short ;; esac
  case $f in tar) z= ;; gzip) z=--gzip ;; xz) z=--xz ;; zstd) z=--zstd ;; *) short ;; esac
  u=$S/$h
  if ! mkdir -m 0700 -- "$u" "$u/tree" || ! mkfifo -m 0600 -- "$u/sum.fifo" "$u/count.fifo"; then
    rm -f -- "$O" "$P"
    rm -rf -- "$S"
    echo "cannot stage the release upload in $D: nothing was applied" >&2
    exit 125
  fi
  sha256sum <"$u/sum.fifo" >"$u/sum" 2>/dev/null &
  summing=$!
  wc -c <"$u/count.fifo" >"$u/count" 2>/dev/null &
  counting=$!
  # The last upload is the end of stdin: tee reads it itself, one copy of the archive fewer
  # through a pipe (the count still says whether all of it, and nothing more, arrived).
  if [ "$k" -gt 0 ]; then head -c "$s" | stage_upload; else stage_upload; fi
  echo "$?" >"$u/tar.rc"
  wait "$summing"
  wait "$counting"
  [ "$(cat -- "$u/count")" = "$s" ] || short
done
trap - HUP TERM PIPE
: >"$R"
# SC2016: expanded by the detached shell, on purpose; SC2094: $R is only its name, as an argument.
# shellcheck disable=SC2016,SC2094
setsid /bin/sh -c 'exec <"$2" && rm -f -- "$2" && program=$(cat -- "$1") && rm -f -- "$1" &&
  HERMES_FLEET_RESULT=$3 && HERMES_FLEET_STAGE=$4 && export HERMES_FLEET_RESULT HERMES_FLEET_STAGE &&
  exec /bin/sh -c "$program" hermes-fleet "$program"' \
  detach "$P" "$O" "$R" "$S" >>"$R" 2>&1 </dev/null &
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
