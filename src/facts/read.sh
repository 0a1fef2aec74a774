# shellcheck shell=sh
# The host side of the batched fact read: one constant POSIX sh program, run once per host
# (src/facts/gather.ts sends it and parses its answers). This part comes last in the joined
# program (src/facts/program.ts), after the field parser (src/exec/line-field.sh) and
# read-paths.sh.
#
# Input, on stdin: one request per line, `INDEX<TAB>KIND<TAB>name=value<TAB>...`, so paths and
# names from the inventory never become part of a command line. Output: one line per request
# that starts with its INDEX, in any order; file contents and multi-line outputs travel
# base64-encoded. `whoami` first, `end` last. Every command reads from /dev/null so none can
# swallow the request stream.
#
# A request with `as=USER` is answered by that account: all of them at once, by one child of
# this program started with setpriv ($1 is this program's own text). Root reads nothing inside
# the service account's tree, where any name may be swapped for a link. When the account does
# not exist yet, nobody can have planted anything there, and root answers.
#
# The stat of every path is one `stat` call for all of them, whatever their number, and a file
# whose content is asked for costs two processes more (read-paths.sh: content6): processes on the
# host are most of what a no-op run costs.
export LC_ALL=C
T=$(printf '\t')
NL='
'
SELF=${1-}
CHILD=${2-}
# $L is -L for a request that follows links (root-chosen paths only), else empty.
L=
FORMAT='%a %u %g %U %G %.9Y %s'
# shellcheck disable=SC2086 # $L is -L or nothing
st() { stat $L -c "$FORMAT" -- "$1" </dev/null; }

# The fields a request line may name: parse (src/exec/line-field.sh) sets each, after
# fields_empty, and refuses any other, as apply.sh refuses one: on stderr, with exit 2, so the
# read fails (gather.ts reports it). The two lists are the same (scripts/lint-sh.mjs checks).
FIELDS='as backend content follow image name path seconds tree user'
fields_empty() {
  as='' backend='' content='' follow='' image='' name='' path='' seconds='' tree='' user=''
}
WHAT='fact request'
fail() {
  printf 'hermes-fleet read.sh: %s\n' "$1" >&2
  exit 2
}

# The host's lock at $lock_path as `STATE<TAB>SERIAL<TAB>BOOT<TAB>HOLDER<TAB>STREAMING` in $probed: `free`,
# `held` by a batch, or `stale` (its file names a holder that is gone); the serial counts the
# batches; HOLDER is the file in base64. Probed with a shared lock held for an instant, or
# waited for up to $1 seconds; never kept: a read never holds a batch out.
lock_path=
# The batches' serial beside the lock in $sr (0 before the first), read by the shell itself.
read_serial() {
  sr=
  if [ -f "${lock_path%/*}/serial" ]; then IFS= read -r sr <"${lock_path%/*}/serial" || :; fi
  [ -n "$sr" ] || sr=0
}
probe_lock() {
  ls=free
  if [ -f "$lock_path" ]; then
    # flock on fd 8, not on the file with a command to run: one process, not two. The lock
    # belongs to the open file, so it is let go when the group closes fd 8.
    if [ "$1" -gt 0 ]; then
      { flock -s -E 75 -w "$1" 8; } 8<"$lock_path" </dev/null 2>/dev/null
    else
      { flock -s -E 75 -n 8; } 8<"$lock_path" </dev/null 2>/dev/null
    fi
    case $? in
    0) [ ! -s "$lock_path" ] || ls=stale ;;
    75)
      ls=held
      # A holder writes its name right after it takes the lock: give it that instant.
      n=0
      while [ ! -s "$lock_path" ] && [ "$n" -lt 10 ]; do
        sleep 0.1
        n=$((n + 1))
      done
      ;;
    *) ls=unknown ;;
    esac
  fi
  read_serial
  boot=
  if [ -r /proc/sys/kernel/random/boot_id ]; then IFS= read -r boot </proc/sys/kernel/random/boot_id || :; fi
  held=
  [ "$ls" = free ] || held=$(head -c 4096 -- "$lock_path" </dev/null | base64 -w0)
  # The last batch's word (detach.sh's apply/result) is no cut-off while its session still
  # streams it: the detach.sh whose pid the linked name carries is alive.
  streaming=0
  if [ -e "${lock_path%/*}/apply/result" ]; then
    t=$(readlink -- "${lock_path%/*}/apply/result" 2>/dev/null </dev/null) || t=
    case $t in result.[0-9]*) [ ! -d "/proc/${t#result.}" ] || streaming=1 ;; esac
  fi
  probed="$ls$T$sr$T$boot$T$held$T$streaming"
}

[ -n "$CHILD" ] || printf 'whoami\t%s\n' "$(id -u </dev/null)"
# Requests to be answered as another account (root only), and the paths waiting for the one
# stat call: "$@" holds their names, $batch one `INDEX<TAB>KIND<TAB>IN-TREE<TAB>PATH` line each.
deferred=
batch=
set --
while IFS= read -r line; do
  parse "$line"
  if [ -n "$as" ] && [ -z "$CHILD" ]; then
    deferred="$deferred$line$NL"
    continue
  fi
  case $op in
  path)
    classify
    if [ -n "$kind" ]; then
      set -- "$@" "$path"
      # ${tree:+1}: whether the name is in the account's tree (content6 may hand it to root).
      batch="$batch$i$T$kind$T${tree:+1}$T$path$NL"
    fi
    ;;
  temp-files)
    # The temporary files of a run that was killed, in directory $path: names only.
    names=
    for f in "$path"/.hermes-fleet.*; do
      if [ -e "$f" ] || [ -L "$f" ]; then names="$names${f##*/}$NL"; fi
    done
    if [ -z "$names" ]; then printf '%s\tfound\t\n' "$i"
    else printf '%s\tfound\t%s\n' "$i" "$(printf '%s' "$names" | base64 -w0)"; fi
    ;;
  dir-entries)
    # A directory only root can write: its entries as SECONDS/NAME, NUL-separated, in base64.
    if [ -d "$path" ] && [ ! -L "$path" ]; then
      printf '%s\tfound\t%s\n' "$i" "$(find "$path" -mindepth 1 -maxdepth 1 -printf '%T@/%f\0' </dev/null 2>/dev/null | base64 -w0)"
    else printf '%s\tabsent\n' "$i"; fi ;;
  user)
    if e=$(getent passwd -- "$name" </dev/null); then printf '%s\tfound\t%s\n' "$i" "$e"
    else printf '%s\tabsent\n' "$i"; fi ;;
  group)
    if e=$(getent group -- "$name" </dev/null); then printf '%s\tfound\t%s\n' "$i" "$e"
    else printf '%s\tabsent\n' "$i"; fi ;;
  unit)
    # systemd before 247 has no --timestamp=: without the fallback every unit would read as
    # not-found, and every run would reload, enable and start it again.
    p=LoadState,ActiveState,SubState,UnitFileState,ActiveEnterTimestamp,StateChangeTimestamp,MainPID,NRestarts
    u=$(systemctl show --timestamp=unix -p "$p" -- "$name" </dev/null 2>/dev/null) ||
      u=$(systemctl show -p "$p" -- "$name" </dev/null 2>/dev/null)
    printf '%s\tunit\t%s\n' "$i" "$(printf '%s' "$u" | base64 -w0)" ;;
  command)
    if command -v "$name" >/dev/null 2>&1; then printf '%s\tfound\n' "$i"; else printf '%s\tabsent\n' "$i"; fi ;;
  package)
    # A Debian package, installed when dpkg's status is `i` (`ii`, or `hi` for a held one).
    if command -v dpkg-query >/dev/null 2>&1 &&
      pkg=$(dpkg-query -W -f '${db:Status-Abbrev}' -- "$name" </dev/null 2>/dev/null) &&
      case $pkg in ?i*) true ;; *) false ;; esac; then printf '%s\tfound\n' "$i"; else printf '%s\tabsent\n' "$i"; fi ;;
  container)
    if command -v "$backend" >/dev/null 2>&1 && o=$("$backend" container inspect --format '{{.Id}} {{.State.Running}} {{.Config.Image}}' -- "$name" </dev/null 2>/dev/null); then
      printf '%s\tfound\t%s\n' "$i" "$o"
    else printf '%s\tabsent\n' "$i"; fi ;;
  image)
    if command -v "$backend" >/dev/null 2>&1 && "$backend" image inspect -- "$image" </dev/null >/dev/null 2>&1; then printf '%s\tfound\n' "$i"
    else printf '%s\tabsent\n' "$i"; fi ;;
  version)
    # As the service user, never as root: the package directory may be writable by it.
    # fd 3 carries the exit code out of the pipeline (POSIX sh has no pipefail), fd 4 the
    # output; the program gets neither, so it cannot hold the answer open.
    if [ ! -e "$path" ]; then printf '%s\tabsent\n' "$i"
    elif ! getent passwd -- "$user" >/dev/null </dev/null; then printf '%s\tno-user\n' "$i"
    else
      r=$( { c=$( { { cd / && runuser -u "$user" -- timeout -k 2 5 "$path" --version </dev/null 2>&1 3>&- 4>&-; printf '%s' "$?" >&3; } | head -c 2048 | base64 -w0 >&4; } 3>&1 ); printf '\t%s' "$c"; } 4>&1 )
      printf '%s\tversion\t%s\n' "$i" "$r"
    fi ;;
  lock)
    # The host's lock (op_lock in apply.sh), probed before every other fact (the request comes
    # first), waiting up to $seconds when a run waits its turn, and again after the last one
    # (`lock-after`): a batch that took it meanwhile may have changed what was read.
    lock_path=$path
    probe_lock "${seconds:-0}"
    first_serial=$sr
    printf '%s\tlock\t%s\n' "$i" "$probed" ;;
  generations)
    # The generations kept in root's $path (record_generation in apply.sh): a
    # `NUMBER<TAB>RELEASE<TAB>LINKED` line each (RELEASE empty when it recorded none; LINKED the
    # names its links point at, space-separated), in base64; read by this shell alone.
    out=
    for g in "$path"/*; do
      n=${g##*/}
      case $n in '' | *[!0-9]*) continue ;; esac
      r=
      k=
      if [ -f "$g/meta" ]; then
        while IFS= read -r l; do
          case $l in
          release=*) r=${l#release=} ;;
          linked=*) k="$k${k:+ }${l#linked=}" ;;
          esac
        done <"$g/meta"
      fi
      out="$out$n$T$r$T$k$NL"
    done
    printf '%s\tfound\t%s\n' "$i" "$(printf '%s' "$out" | base64 -w0)" ;;
  *) printf '%s\tunknown\n' "$i" ;;
  esac
done

# The one stat call, links not followed: each name's device:inode, then its answer's stat. A
# name that vanished since it was classified fails it: then each is asked on its own (and one
# that is gone is absent).
L=
if [ $# -gt 0 ]; then
  if out=$(stat -c "%d:%i $FORMAT" -- "$@" 2>/dev/null </dev/null); then
    out="$out$NL"
  else
    out=
  fi
  while [ -n "$batch" ]; do
    m=${batch%%"$NL"*}
    batch=${batch#*"$NL"}
    i=${m%%"$T"*}
    m=${m#*"$T"}
    kind=${m%%"$T"*}
    m=${m#*"$T"}
    tree=${m%%"$T"*}
    path=${m#*"$T"}
    if [ -n "$out" ]; then
      s=${out%%"$NL"*}
      out=${out#*"$NL"}
      if [ "$kind" = content ]; then content6 "${s%% *}"; else answer "${s#* }"; fi
    elif s=$(st "$path" 2>/dev/null); then
      if [ "$kind" = content ]; then file6; else answer "$s"; fi
    else
      printf '%s\tabsent\n' "$i"
    fi
  done
fi

# The deferred requests, one child per account, fed the same request lines.
while [ -n "$deferred" ]; do
  first=${deferred%%"$NL"*}
  parse "$first"
  who=$as
  mine=
  rest=
  while [ -n "$deferred" ]; do
    line=${deferred%%"$NL"*}
    deferred=${deferred#*"$NL"}
    case $line in
    *"${T}as=$who${T}"* | *"${T}as=$who") mine="$mine$line$NL" ;;
    *) rest="$rest$line$NL" ;;
    esac
  done
  deferred=$rest
  if g=$(id -g -- "$who" 2>/dev/null </dev/null); then
    answers=$(printf '%s' "$mine" |
      setpriv --reuid="$who" --regid="$g" --init-groups -- /bin/sh -c "$SELF" hermes-fleet "$SELF" account)
    while IFS= read -r answer; do
      case $answer in
      *"${T}retry")
        retry=${answer%"${T}retry"}
        rest=$mine
        while [ -n "$rest" ]; do
          line=${rest%%"$NL"*}
          rest=${rest#*"$NL"}
          case $line in "$retry$T"*) parse "$line" && read_as_root ;; esac
        done
        ;;
      *)
        # Only answers to the requests it was given: the child is the account's process.
        case $NL$mine in *"$NL${answer%%"$T"*}$T"*) printf '%s\n' "$answer" ;; esac
        ;;
      esac
    done <<ANSWERS
$answers
ANSWERS
  else
    # No such account yet: root answers, as the child would.
    printf '%s' "$mine" | /bin/sh -c "$SELF" hermes-fleet "$SELF" root
  fi
done
# Again after the last fact, by the serial first: a batch moves it before it changes anything,
# so an unmoved serial means nothing was changed under the read, at no process's cost.
if [ -z "$CHILD" ] && [ -n "$lock_path" ]; then
  read_serial
  if [ "$sr" = "$first_serial" ]; then
    printf 'lock-after\tfree\t%s\t\t\t0\n' "$sr"
  else
    probe_lock 0
    printf 'lock-after\t%s\n' "$probed"
  fi
fi
[ -n "$CHILD" ] || printf 'end\n'
