# shellcheck shell=sh
# The host side of the batched apply: one constant POSIX sh program that carries out a host's
# whole plan in one round trip (src/apply/apply.ts sends it; encode-ops.ts writes its input).
#
# Input, on stdin: one header line per operation, `INDEX<TAB>OP<TAB>name=value<TAB>...`, named
# fields in any order. An operation with `size=N` is followed by exactly N bytes of body (a
# file's content), read with `head -c`, which never reads past them: content never touches a
# command line or a here-document. OP is the kind of the plan's change (src/plan/types.ts).
#
# Output, on stdout: `INDEX<TAB>ok` after each operation, or `INDEX<TAB>fail<TAB>BASE64` and exit
# 1: the first failure stops the host, and everything before it stays applied whole. `end` when
# all went through, `interrupted` when SIGINT (Ctrl-C on the control machine, sent as an SSH
# signal) stopped the batch at the next task boundary (`task` lines); the operation in flight
# always finishes. Hang-up and termination remove the temporary file and exit at once.
#
# Who acts: an operation with `as=USER` runs as that account, in a child of this program
# started with setpriv (this program's own text is $1, so the child is the same code). The
# service account owns its tree (stateDir, HERMES_HOME, workingDirectory) and can swap any name
# in it for a link at any moment; what it would gain by making root follow one is nothing when
# root never acts there. Root acts only in trees root owns, and on the few names it must
# (creating stateDir, handing a directory over): those carry `tree=TOP`, and root then works
# inside the parent directory, entered once and checked to be that very directory (pin), on an
# fd checked to be the inode the name holds (open5).
#
# Files are written atomically: mktemp beside the target (mode 0600 from birth), owner and final
# mode set while still empty, content written, size checked, fsync'd, renamed over the target.
export LC_ALL=C
T=$(printf '\t')
SELF=${1-}
tmp=
i=-
stop=
# -r: a release's temporary directory too (always a name mktemp made, in the pinned directory).
cleanup() { if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi; }
trap cleanup EXIT
trap 'cleanup; exit 129' TERM HUP PIPE
trap 'stop=1' INT
# A child's failure is reported by the child; 3 tells its parent so.
failed=1
fail() { printf '%s\tfail\t%s\n' "$i" "$(printf '%s' "$1" | base64 -w0)"; exit "$failed"; }
run() { o=$("$@" 2>&1 </dev/null) || fail "$* failed: $o"; }

# Sets one variable per named field of the header line $1; no other variable is touched.
parse() {
  action='' as='' backend='' format='' group='' home='' image='' mode='' name='' path=''
  seconds='' sha256='' shell='' size='' strip='' target='' tree='' unit='' user=''
  set -f
  IFS=$T
  # shellcheck disable=SC2086 # split on tabs on purpose, globbing is off
  set -- $1
  IFS=' 	
'
  set +f
  i=$1 op=$2
  shift 2
  for f; do
    case $f in
    action=*) action=${f#*=} ;;
    as=*) as=${f#*=} ;;
    backend=*) backend=${f#*=} ;;
    format=*) format=${f#*=} ;;
    group=*) group=${f#*=} ;;
    home=*) home=${f#*=} ;;
    image=*) image=${f#*=} ;;
    mode=*) mode=${f#*=} ;;
    name=*) name=${f#*=} ;;
    path=*) path=${f#*=} ;;
    seconds=*) seconds=${f#*=} ;;
    sha256=*) sha256=${f#*=} ;;
    shell=*) shell=${f#*=} ;;
    size=*) size=${f#*=} ;;
    strip=*) strip=${f#*=} ;;
    target=*) target=${f#*=} ;;
    tree=*) tree=${f#*=} ;;
    unit=*) unit=${f#*=} ;;
    user=*) user=${f#*=} ;;
    *) fail "unknown field ${f%%=*} in operation $op" ;;
    esac
  done
}

# The first component of $1 below $tree that is a symbolic link, said for people.
linked() {
  p=$tree
  rest=${1#"$tree"}
  while [ -n "$rest" ]; do
    rest=${rest#/}
    p=$p/${rest%%/*}
    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
    if [ -L "$p" ]; then
      printf '%s is a symbolic link to %s: not following it' "$p" "$(readlink -- "$p" </dev/null)"
      return
    fi
  done
  printf '%s changed under hermes-fleet (moved or replaced): not following it' "$1"
}

# Enters the directory that holds $path and sets $b to the name in it. Below $tree (a tree the
# service account owns) the directory entered must be the one $path names, with no component
# swapped for a link: pwd -P names the directory actually entered. Every name used after this
# is relative to it, so a parent swapped for a link afterwards redirects nothing. $1 says what
# could not be done when the directory cannot be entered.
pin() {
  d=${path%/*}
  b=${path##*/}
  [ -n "$d" ] || d=/
  cd -P -- "$d" 2>/dev/null || fail "${1:-cannot enter $d}: $d is not a directory that can be entered"
  [ -n "$tree" ] || return 0
  case $d/ in
  "$tree"/*)
    top=$(cd -P -- "$tree" && pwd -P) || fail "cannot enter $tree"
    [ "$(pwd -P)" = "$top${d#"$tree"}" ] || fail "$(linked "$d")"
    ;;
  esac
}

# Opens $1 (a name in the pinned directory) on fd 5, checked to be the very inode the name holds
# now and of kind $3: f (a regular file) or d (a directory). A link, or a swap between open and
# check, differs; protected_hardlinks keeps a hard link to another's file out. Mode, owner and
# content then go through fd 5, never through the name again.
is_kind() { if [ "$1" = d ]; then [ -d "$2" ]; else [ -f "$2" ]; fi; }
open5() {
  if [ "$3" = d ]; then what='a directory'; else what='a regular file'; fi
  if [ -L "$1" ]; then
    fail "$2 changed under hermes-fleet: it is a symbolic link to $(readlink -- "$1" </dev/null); not following it"
  fi
  bad="$2 changed under hermes-fleet (it is not the file that was opened, or not $what): not following it"
  is_kind "$3" "$1" || fail "$bad"
  # Through "command": a failed redirection of a plain exec ends the shell without a fail line.
  # Read-only, because every opening for writing creates a missing file, through a dangling
  # link too (a name swapped for a link to /etc/nologin would have root create that).
  command exec 5<"$1" || fail "cannot open $2"
  if ! is_kind "$3" /proc/self/fd/5 || [ -L "$1" ] ||
    [ "$(stat -L -c '%d:%i' /proc/self/fd/5)" != "$(stat -c '%d:%i' -- "$1" </dev/null)" ]; then
    exec 5>&-
    fail "$bad"
  fi
}

op_dir() {
  # Parents the plan does not manage are made root's, as install -d made them; but never
  # inside the account's tree, where a component may be a link (the plan makes those itself,
  # parents first, so a missing one there is a failure).
  d=${path%/*}
  inside=
  case $d/ in "$tree"/*) [ -z "$tree" ] || inside=1 ;; esac
  [ -n "$inside" ] || [ -z "$d" ] || [ -d "$d" ] || run mkdir -p -- "$d"
  pin
  [ -e "$b" ] || [ -L "$b" ] || run mkdir -m 0700 -- "$b"
  open5 "$b" "$path" d
  run chown -- "$user:$group" /proc/self/fd/5
  # The extra leading 0 makes GNU chmod clear a directory's setgid bit too (which a directory
  # inherits from a setgid parent); with 4 digits it keeps it, and the mode never converges.
  run chmod -- "0$mode" /proc/self/fd/5
  exec 5>&-
}

op_file() {
  pin "cannot create a temporary file next to $path"
  tmp=$(mktemp -- ./.hermes-fleet.XXXXXX </dev/null 2>&1) || {
    o=$tmp
    tmp=
    fail "cannot create a temporary file next to $path: $o"
  }
  open5 "$tmp" "the temporary file for $path" f
  run chown -- "$user:$group" /proc/self/fd/5
  run chmod -- "$mode" /proc/self/fd/5
  # Reopened for writing through fd 5's /proc link, which holds the checked inode: it cannot
  # dangle, and names nothing the service account can swap.
  head -c "$size" >/proc/self/fd/5 || fail "writing $path failed"
  [ "$(stat -L -c %s /proc/self/fd/5)" = "$size" ] ||
    fail "$path: the content arrived incomplete; the old file is unchanged"
  sync -- /proc/self/fd/5 2>/dev/null </dev/null || true
  exec 5>&-
  # -T: a name swapped for a link to a directory is replaced, never moved into.
  run mv -Tf -- "$tmp" "$b"
  tmp=
}

op_attrs() {
  pin
  open5 "$b" "$path" f
  # Owner first: chown clears setuid/setgid, and the new mode must be the last word.
  run chown -- "$user:$group" /proc/self/fd/5
  run chmod -- "0$mode" /proc/self/fd/5
  exec 5>&-
}

# A new link beside the name, renamed over it: the name is the old link or the new, never none.
relink() {
  tmp=./.hermes-fleet.link.$$
  run ln -sfn -- "$target" "$tmp"
  run mv -Tf -- "$tmp" "$b"
  tmp=
}

op_symlink() {
  pin
  relink
}

op_remove() {
  pin
  run rm -f -- "$b"
}

# A release: the archive's bytes (the body) are unpacked as they arrive into a temporary
# directory beside the final name, while sha256sum reads the same stream (tee into a fifo): one
# pass, no copy of the archive on disk. Only a release whose bytes have the sha256 the plan
# names, that tar unpacked whole and that has an executable bin/hermes is renamed to
# releases/<id>: a release under its final name is always whole. Root's tree: owned by root,
# no group or other write bit, no setuid bit, whatever the archive says. tee -p keeps reading
# when tar stops early (a corrupt archive), so every byte of the body is consumed and the
# operations after it stay in step. A failure (a full disk, a cut connection) leaves the
# temporary directory, which the trap removes; the next run removes any a killed run left.
op_release_unpack() {
  d=${path%/*}
  [ -d "$d" ] || run mkdir -p -m 0755 -- "$d"
  pin
  tmp=$(mktemp -d -- ./.hermes-fleet.XXXXXX </dev/null 2>&1) || {
    o=$tmp
    tmp=
    fail "cannot create a temporary directory in $d: $o"
  }
  case $format in
  tar) z= ;;
  gzip) z=--gzip ;;
  xz) z=--xz ;;
  zstd) z=--zstd ;;
  *) fail "unknown archive format $format" ;;
  esac
  run mkdir -m 0700 -- "$tmp/tree"
  run mkfifo -m 0600 -- "$tmp/fifo"
  sha256sum <"$tmp/fifo" >"$tmp/sum" 2>/dev/null &
  summing=$!
  # shellcheck disable=SC2086 # $z is one option or none
  o=$({ head -c "$size" | tee -p -- "$tmp/fifo" | (umask 022 && tar -x $z --file - \
    --directory "$tmp/tree" --no-same-owner --no-same-permissions \
    --strip-components="$strip"); } 2>&1)
  untarred=$?
  wait "$summing"
  got=$(cat -- "$tmp/sum" </dev/null)
  got=${got%% *}
  [ "$got" = "$sha256" ] ||
    fail "release $b: the upload arrived incomplete or corrupted (sha256 ${got:-none}, expected $sha256); nothing was installed"
  [ "$untarred" = 0 ] || fail "unpacking release $b failed: $o"
  if [ ! -x "$tmp/tree/bin/hermes" ] || [ -d "$tmp/tree/bin/hermes" ]; then
    fail "release $b has no executable bin/hermes once unpacked; nothing was installed"
  fi
  run chmod -R go-w,ug-s -- "$tmp/tree"
  run chmod 0755 -- "$tmp/tree"
  run mv -T -- "$tmp/tree" "$b"
  rm -rf -- "$tmp"
  tmp=
}

# `current` switched: a new link renamed over the old, and the release's directory touched, so
# its mtime says when it was last switched to (pruning removes the oldest switch first).
op_release_switch() {
  pin
  [ -d "$target" ] || fail "cannot switch $path to $target: it is not a release directory"
  run touch -c -- "$target"
  relink
}

op_release_remove() {
  pin
  case $b in
  .hermes-fleet.* | [0-9a-f]*) run rm -rf -- "$b" ;;
  *) fail "$path is not a release directory: not removing it" ;;
  esac
}

# A container image archive: its bytes (the body) land in a directory mktemp makes root's and
# 0700, in /var/tmp, outside every tree the service account owns; they are checked (size,
# sha256) and only then loaded, and the runtime must then know the image id the plan named
# (what the archive's manifest said it holds). The trap removes the directory on every exit.
op_image_load() {
  tmp=$(mktemp -d -- /var/tmp/hermes-fleet-image.XXXXXX </dev/null 2>&1) || {
    o=$tmp
    tmp=
    fail "cannot create a temporary directory in /var/tmp for image $image: $o"
  }
  o=$(head -c "$size" 2>&1 >"$tmp/image.tar") || fail "receiving image $image failed: $o"
  [ "$(stat -c %s -- "$tmp/image.tar" </dev/null)" = "$size" ] ||
    fail "image $image: the upload arrived incomplete; nothing was loaded"
  got=$(sha256sum -- "$tmp/image.tar" </dev/null) || fail "cannot checksum the upload of image $image"
  got=${got%% *}
  [ "$got" = "$sha256" ] ||
    fail "image $image: the upload arrived corrupted (sha256 $got, expected $sha256); nothing was loaded"
  run "$backend" load --input "$tmp/image.tar"
  rm -rf -- "$tmp"
  tmp=
  "$backend" image inspect --format '{{.Id}}' -- "$image" >/dev/null 2>&1 </dev/null ||
    fail "$backend load went through, but $backend does not know image $image, the one the archive's manifest names"
}

journal() { journalctl -u "$1" -n 20 --no-pager -o short-iso 2>&1 </dev/null; }
unit_failure() {
  printf '%s is %s, not active\n--- last log lines ---\n%s' "$1" "$2" "$(journal "$1")"
}

# After a (re)start: active, and still the same process with no restart `seconds` later; then
# the health command (the body), when there is one, exits 0 as `user`.
op_wait_healthy() {
  cmd=
  if [ "${size:-0}" -gt 0 ]; then cmd=$(head -c "$size"); fi
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
    o=$(cd / && runuser -u "$user" -- /bin/sh -c "$cmd" </dev/null 2>&1) || {
      rc=$?
      [ -z "$o" ] || o=": $o"
      fail "$(printf 'health check command failed as %s (exit %s)%s\n--- last log lines ---\n%s' "$user" "$rc" "$o" "$(journal "$unit")")"
    }
  fi
}

# One operation, parsed into variables: the names are the plan's change kinds.
apply_op() {
  case $op in
  task)
    if [ -n "$stop" ]; then
      printf 'interrupted\n'
      exit 0
    fi
    ;;
  group-create)
    getent group -- "$name" >/dev/null </dev/null || run groupadd --system "$name"
    ;;
  user-create)
    getent passwd -- "$name" >/dev/null </dev/null ||
      run useradd --system --gid "$group" --home-dir "$home" --no-create-home --shell "$shell" "$name"
    ;;
  dir) op_dir ;;
  file) op_file ;;
  attrs) op_attrs ;;
  symlink) op_symlink ;;
  remove) op_remove ;;
  restart-pending)
    # The note is root's, in /run: `set` writes the body that follows, `clear` removes it.
    if [ "$action" = set ]; then op_file; else op_remove; fi
    ;;
  systemd)
    if [ "$action" = daemon-reload ]; then
      run systemctl daemon-reload
    else
      run systemctl "$action" -- "$unit"
    fi
    ;;
  container-remove)
    # rm -f of a container that is already gone may fail; one that is still there must not
    # pass, or the next start would run the old container under the new identity.
    o=$("$backend" rm -f -- "$name" 2>&1 </dev/null) ||
      if "$backend" container inspect -- "$name" >/dev/null 2>&1 </dev/null; then
        fail "$backend rm -f $name failed: $o"
      fi
    ;;
  wait-healthy) op_wait_healthy ;;
  release-unpack) op_release_unpack ;;
  release-switch) op_release_switch ;;
  release-remove) op_release_remove ;;
  image-load) op_image_load ;;
  *) fail "unknown operation $op" ;;
  esac
}

# In a child started for an `as=` operation: $2 is that operation's header line.
if [ -n "${2-}" ]; then
  failed=3
  parse "$2"
  apply_op
  exit 0
fi

# The group of each account an operation runs as, looked up once.
as_user=
as_group=
retried=
while :; do
  if ! IFS= read -r line; then
    # dash's read returns 1 both at EOF and when the INT trap fires while it waits for input.
    if [ -n "$stop" ] && [ -z "$retried" ]; then
      retried=1
      continue
    fi
    break
  fi
  parse "$line"
  if [ -n "$as" ]; then
    if [ "$as" != "$as_user" ]; then
      as_group=$(id -g -- "$as" 2>/dev/null </dev/null) || fail "user $as does not exist"
      as_user=$as
    fi
    # The same program, run as the account: an empty $SELF would run nothing and report ok.
    [ -n "$SELF" ] || fail "cannot run as $as: the program did not get its own text"
    # The child never holds root's stdin or stdout (it could read ahead into the operations
    # that follow, or print their answers): it gets its own body on a pipe, and what it says
    # comes back here, where only its own failure line is passed on.
    if [ "${size:-0}" -gt 0 ]; then
      said=$(head -c "$size" | setpriv --reuid="$as" --regid="$as_group" --init-groups -- \
        /bin/sh -c "$SELF" hermes-fleet "$SELF" "$line" 2>&1)
    else
      said=$(setpriv --reuid="$as" --regid="$as_group" --init-groups -- \
        /bin/sh -c "$SELF" hermes-fleet "$SELF" "$line" </dev/null 2>&1)
    fi
    rc=$?
    if [ "$rc" != 0 ]; then
      why=
      while IFS= read -r said_line; do
        case $said_line in "$i${T}fail$T"*) why=${said_line#"$i${T}fail$T"} ;; esac
      done <<SAID
$said
SAID
      if [ "$rc" = 3 ] && [ -n "$why" ]; then
        printf '%s\tfail\t%s\n' "$i" "$why"
        exit 1
      fi
      fail "running as $as failed (exit $rc): $said"
    fi
  else
    apply_op
  fi
  printf '%s\tok\n' "$i"
done
i=-
if [ -n "$stop" ]; then printf 'interrupted\n'; else printf 'end\n'; fi
