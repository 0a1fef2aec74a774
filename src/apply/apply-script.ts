/**
 * The host side of the batched apply: one constant POSIX sh program that carries out a host's
 * whole plan in one round trip. Operations arrive on stdin as tab-separated header lines
 * (`idx op a b c d e`); a file's bytes follow its header, `e` bytes long, read with `head -c`
 * (which never reads past them), so content never touches a command line or here-document.
 *
 * Files are written atomically: mktemp in the target's directory (mode 0600 from birth), owner
 * and final mode set while still empty, content written, size checked, fsync'd, renamed over
 * the target. A temp file is removed on every exit path (error, hang-up, interrupt).
 * After each operation one line `idx ok`, or `idx fail <base64 message>` and exit 1: the first
 * failure stops the host, and everything before it stays applied whole.
 *
 * SIGINT (Ctrl-C on the control machine, sent as an SSH signal) only raises a flag: the
 * operation in flight finishes, and the batch stops at the next task boundary (`task` lines),
 * printing `interrupted`. Hang-up and termination remove the temp file and exit at once.
 */
export const APPLY_SCRIPT = String.raw`
export LC_ALL=C
T=$(printf '\t')
tmp=
i=-
stop=
cleanup() { if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi; }
trap cleanup EXIT
trap 'cleanup; exit 129' TERM HUP PIPE
trap 'stop=1' INT
fail() { printf '%s\tfail\t%s\n' "$i" "$(printf '%s' "$1" | base64 -w0)"; exit 1; }
run() { o=$("$@" 2>&1 </dev/null) || fail "$* failed: $o"; }
# The service account owns the directories written into, so it can swap any name for a link at
# any moment. Mode, owner and content therefore go through fd 5, opened on the name and checked
# to be the very inode the name holds now (a link, or a swap between open and check, differs;
# protected_hardlinks keeps a hard link to another's file out), never through the name again.
# $3 is what the name must be: f (a regular file) or d (a directory).
open5() {
  if [ "$3" = d ]; then what='a directory'; else what='a regular file'; fi
  bad="$2 changed under hermes-fleet (it is not the file that was opened, or not $what): not following it"
  # Checked first too, so a link planted before the run is never even opened.
  [ "-$3" "$1" ] && [ ! -L "$1" ] || fail "$bad"
  # Through "command": a failed redirection of a plain exec ends the shell without a fail line.
  # Read-only, because every opening for writing creates a missing file, through a dangling
  # link too (a name swapped for a link to /etc/nologin would have root create that).
  command exec 5<"$1" || fail "cannot open $2"
  [ "-$3" /proc/self/fd/5 ] && [ ! -L "$1" ] &&
    [ "$(stat -L -c '%d:%i' /proc/self/fd/5)" = "$(stat -c '%d:%i' -- "$1" </dev/null)" ] ||
    { exec 5>&-; fail "$bad"; }
}
journal() { journalctl -u "$1" -n 20 --no-pager -o short-iso 2>&1 </dev/null; }
unit_failure() {
  printf '%s is %s, not active\n--- last log lines ---\n%s' "$1" "$2" "$(journal "$1")"
}
retried=
while :; do
  if ! IFS="$T" read -r i op a b c d e; then
    # dash's read returns 1 both at EOF and when the INT trap fires while it waits for input.
    if [ -n "$stop" ] && [ -z "$retried" ]; then retried=1; continue; fi
    break
  fi
  case "$op" in
  task)
    if [ -n "$stop" ]; then printf 'interrupted\n'; exit 0; fi ;;
  group)
    getent group -- "$a" >/dev/null </dev/null || run groupadd --system "$a" ;;
  user)
    getent passwd -- "$a" >/dev/null </dev/null ||
      run useradd --system --gid "$b" --home-dir "$c" --no-create-home --shell "$d" "$a" ;;
  dir)
    # Never install -d: on a link it chmods and chowns the link's target. Parents the plan does
    # not manage are made root's, as install -d made them.
    p=$(dirname -- "$a")
    [ -d "$p" ] || run mkdir -p -- "$p"
    [ -e "$a" ] || [ -L "$a" ] || run mkdir -m 0700 -- "$a"
    open5 "$a" "$a" d
    run chown -- "$c:$d" /proc/self/fd/5
    # The extra leading 0 makes GNU chmod clear a directory's setgid bit too (which a directory
    # inherits from a setgid parent); with 4 digits it keeps it, and the mode never converges.
    run chmod -- "0$b" /proc/self/fd/5
    exec 5>&- ;;
  write)
    tmp=$(mktemp -- "$(dirname -- "$a")/.hermes-fleet.XXXXXX" </dev/null 2>&1) || { o=$tmp; tmp=; fail "cannot create a temporary file next to $a: $o"; }
    open5 "$tmp" "the temporary file for $a" f
    run chown -- "$c:$d" /proc/self/fd/5
    run chmod -- "$b" /proc/self/fd/5
    # Reopened for writing through fd 5's /proc link, which holds the checked inode: it cannot
    # dangle, and names nothing the service account can swap.
    head -c "$e" >/proc/self/fd/5 || fail "writing $a failed"
    [ "$(stat -L -c %s /proc/self/fd/5)" = "$e" ] || fail "$a: the content arrived incomplete; the old file is unchanged"
    sync -- /proc/self/fd/5 2>/dev/null </dev/null || true
    exec 5>&-
    run mv -f -- "$tmp" "$a"
    tmp= ;;
  attrs)
    open5 "$a" "$a" f
    run chmod -- "0$b" /proc/self/fd/5
    run chown -- "$c:$d" /proc/self/fd/5
    exec 5>&- ;;
  symlink)
    tmp="$(dirname -- "$a")/.hermes-fleet.link.$$"
    run ln -sfn -- "$b" "$tmp"
    run mv -Tf -- "$tmp" "$a"
    tmp= ;;
  remove)
    run rm -f -- "$a" ;;
  systemctl)
    if [ "$a" = daemon-reload ]; then run systemctl daemon-reload; else run systemctl "$a" -- "$b"; fi ;;
  container-rm)
    # rm -f of a container that is already gone may fail; one that is still there must not
    # pass, or the next start would run the old container under the new identity.
    o=$("$a" rm -f -- "$b" 2>&1 </dev/null) ||
      if "$a" container inspect -- "$b" >/dev/null 2>&1 </dev/null; then fail "$a rm -f $b failed: $o"; fi ;;
  wait)
    cmd=
    if [ "$e" -gt 0 ]; then cmd=$(head -c "$e"); fi
    n=0
    while :; do
      s=$(systemctl is-active -- "$a" </dev/null)
      [ "$s" = active ] && break
      n=$((n + 1))
      if [ "$s" = failed ] || [ "$n" -ge 300 ]; then fail "$(unit_failure "$a" "$s")"; fi
      sleep 0.1
    done
    p1=$(systemctl show -p MainPID --value -- "$a" </dev/null)
    r1=$(systemctl show -p NRestarts --value -- "$a" </dev/null)
    sleep "$b"
    s=$(systemctl is-active -- "$a" </dev/null)
    p2=$(systemctl show -p MainPID --value -- "$a" </dev/null)
    r2=$(systemctl show -p NRestarts --value -- "$a" </dev/null)
    if [ "$s" != active ] || [ "$p1" != "$p2" ] || [ "$r1" != "$r2" ]; then
      fail "$(unit_failure "$a" "$s (it did not stay up for $b s)")"
    fi
    if [ -n "$cmd" ]; then
      o=$(cd / && runuser -u "$c" -- /bin/sh -c "$cmd" </dev/null 2>&1) || {
        rc=$?
        [ -z "$o" ] || o=": $o"
        fail "$(printf 'health check command failed as %s (exit %s)%s\n--- last log lines ---\n%s' "$c" "$rc" "$o" "$(journal "$a")")"
      }
    fi ;;
  *)
    fail "unknown operation $op" ;;
  esac
  printf '%s\tok\n' "$i"
done
i=-
if [ -n "$stop" ]; then printf 'interrupted\n'; else printf 'end\n'; fi
`;
