/**
 * The host side of the batched fact read: one constant POSIX sh program, run once per host.
 * Requests arrive on stdin, one per line, tab-separated (`idx kind arg1 arg2 arg3`), so paths and
 * names from the inventory never become part of a command line. Each answer is one line that
 * starts with the request's index; file contents and multi-line outputs travel base64-encoded.
 * Every command reads from /dev/null so none can swallow the request stream.
 */
export const READ_SCRIPT = String.raw`
export LC_ALL=C
T=$(printf '\t')
# $L is -L for a request that follows links (root-chosen paths only), else empty.
L=
st() { stat $L -c '%a %u %g %U %G %.9Y %s' -- "$1" </dev/null; }
# The service account can swap a name it owns for a link at any moment, also between the checks
# below and the read: content comes from fd 6, opened on the name and checked to be the regular
# file the name holds, so a link's target (/etc/shadow, say) never comes back as the file's
# content, into --diff and the reports. A file that changed so is answered with ~.
file6() {
  if ! command exec 6<"$a"; then printf '%s\tfile\t%s\t!\n' "$i" "$(st "$a")"; return; fi
  if [ -f /proc/self/fd/6 ] && { [ -n "$L" ] || [ ! -L "$a" ]; } &&
    [ "$(stat -L -c '%d:%i' /proc/self/fd/6)" = "$(stat $L -c '%d:%i' -- "$a" </dev/null)" ]; then
    printf '%s\tfile\t%s\t' "$i" "$(stat -L -c '%a %u %g %U %G %.9Y %s' /proc/self/fd/6)"
    base64 -w0 <&6 || printf '!'
    printf '\n'
  else
    printf '%s\tfile\t%s\t~\n' "$i" "$(st "$a")"
  fi
  exec 6<&-
}
printf 'whoami\t%s\n' "$(id -u </dev/null)"
while IFS="$T" read -r i k a b c; do
  case "$k" in
  path)
    # Following, every test below (and stat) describes the link's target; a dangling link is
    # absent, as for the module's [ -f f ].
    if [ "$c" = 1 ]; then L=-L; else L=; fi
    if [ -z "$L" ] && [ -L "$a" ]; then
      printf '%s\tsymlink\t%s\t%s\n' "$i" "$(st "$a")" "$(printf '%s' "$(readlink -- "$a" </dev/null)" | base64 -w0)"
    elif [ -f "$a" ] && [ "$b" = 1 ]; then
      file6
    elif [ -f "$a" ]; then
      printf '%s\tfile\t%s\t\n' "$i" "$(st "$a")"
    elif [ -d "$a" ]; then
      printf '%s\tdir\t%s\n' "$i" "$(st "$a")"
    elif [ -e "$a" ]; then
      printf '%s\tother\t%s\n' "$i" "$(st "$a")"
    else
      printf '%s\tabsent\n' "$i"
    fi ;;
  user)
    if e=$(getent passwd -- "$a" </dev/null); then printf '%s\tfound\t%s\n' "$i" "$e"
    else printf '%s\tabsent\n' "$i"; fi ;;
  group)
    if e=$(getent group -- "$a" </dev/null); then printf '%s\tfound\t%s\n' "$i" "$e"
    else printf '%s\tabsent\n' "$i"; fi ;;
  unit)
    # systemd before 247 has no --timestamp=: without the fallback every unit would read as
    # not-found, and every run would reload, enable and start it again.
    p=LoadState,ActiveState,SubState,UnitFileState,ActiveEnterTimestamp,StateChangeTimestamp,MainPID,NRestarts
    u=$(systemctl show --timestamp=unix -p "$p" -- "$a" </dev/null 2>/dev/null) ||
      u=$(systemctl show -p "$p" -- "$a" </dev/null 2>/dev/null)
    printf '%s\tunit\t%s\n' "$i" "$(printf '%s' "$u" | base64 -w0)" ;;
  command)
    if command -v "$a" >/dev/null 2>&1; then printf '%s\tfound\n' "$i"; else printf '%s\tabsent\n' "$i"; fi ;;
  container)
    if command -v "$a" >/dev/null 2>&1 && o=$("$a" container inspect --format '{{.Id}} {{.State.Running}} {{.Config.Image}}' -- "$b" </dev/null 2>/dev/null); then
      printf '%s\tfound\t%s\n' "$i" "$o"
    else printf '%s\tabsent\n' "$i"; fi ;;
  image)
    if command -v "$a" >/dev/null 2>&1 && "$a" image inspect -- "$b" </dev/null >/dev/null 2>&1; then printf '%s\tfound\n' "$i"
    else printf '%s\tabsent\n' "$i"; fi ;;
  version)
    # As the service user $b, never as root: the package directory may be writable by it.
    # fd 3 carries the exit code out of the pipeline (POSIX sh has no pipefail), fd 4 the
    # output; the program gets neither, so it cannot hold the answer open.
    if [ ! -e "$a" ]; then printf '%s\tabsent\n' "$i"
    elif ! getent passwd -- "$b" >/dev/null </dev/null; then printf '%s\tno-user\n' "$i"
    else
      r=$( { c=$( { { cd / && runuser -u "$b" -- timeout -k 2 5 "$a" --version </dev/null 2>&1 3>&- 4>&-; printf '%s' "$?" >&3; } | head -c 2048 | base64 -w0 >&4; } 3>&1 ); printf '\t%s' "$c"; } 4>&1 )
      printf '%s\tversion\t%s\n' "$i" "$r"
    fi ;;
  *) printf '%s\tunknown\n' "$i" ;;
  esac
done
printf 'end\n'
`;
