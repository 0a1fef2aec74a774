# shellcheck shell=sh
# The host side of `hermes-fleet unlock`: lets go of the host's lock (op_lock in apply.sh;
# src/runner/host-lock.ts). Input: one line, `0<TAB>unlock<TAB>path=LOCK<TAB>seconds=N`, read by
# the field parser the host programs share (src/exec/line-field.sh, joined in by unlock.ts).
#
# A free lock whose file still names a holder that is gone (killed, or the host rebooted) has
# its file cleared. A lock a batch holds is ended the way Ctrl-C ends a run: SIGINT to the batch
# the file names, which finishes the operation in flight (a failed health check still rolls
# back), starts no other task, and lets go as it exits; this waits up to N seconds for that.
#
# Output: `unlock<TAB>STATE<TAB>BASE64` with the holder file as found, STATE one of `free`,
# `cleared` (a holder that was gone), `stopped` (the batch let go), `held` (it did not in time).
export LC_ALL=C
T=$(printf '\t')
FIELDS='path seconds'
fields_empty() { path='' seconds=''; }
WHAT=request
fail() {
  printf 'hermes-fleet unlock.sh: %s\n' "$1" >&2
  exit 2
}
IFS= read -r line || exit 0
parse "$line"
[ "$op" = unlock ] || fail "request $i is $op, not unlock"
[ -n "$path" ] || fail "no path in the request"
[ -n "$seconds" ] || seconds=60
say() { printf 'unlock\t%s\t%s\n' "$1" "$holder"; }
holder=
if [ ! -f "$path" ]; then
  say free
  exit 0
fi
holder=$(head -c 4096 -- "$path" </dev/null | base64 -w0)
command exec 9<>"$path" || exit 125
# Held for an instant to clear a stale file (a batch waits for it: at least 2 s); waited for as
# long, since a reader's probe holds a shared lock for an instant too.
if flock -x -w 2 9; then
  if [ -s "$path" ]; then
    : >"$path"
    say cleared
  else
    say free
  fi
  exit 0
fi
batch=
boot=
while IFS= read -r l; do
  case $l in
  batch=*) batch=${l#batch=} ;;
  boot=*) boot=${l#boot=} ;;
  esac
done <"$path"
now=
if [ -r /proc/sys/kernel/random/boot_id ]; then IFS= read -r now </proc/sys/kernel/random/boot_id || :; fi
# Only the batch the file names, and only in the boot it started in: a pid is nobody's after a
# reboot.
case $batch in
'' | *[!0-9]*) ;;
*) [ "$boot" != "$now" ] || kill -INT "$batch" 2>/dev/null || true ;;
esac
if flock -x -w "$seconds" 9; then
  # The batch clears the file as it exits; one that could not (killed meanwhile) is cleared here.
  [ ! -s "$path" ] || : >"$path"
  say stopped
else
  say held
fi
