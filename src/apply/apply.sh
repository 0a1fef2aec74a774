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
#
# Rollback: an operation with `undo=path` first keeps what is at its path now (save_before), by
# the same actor, and root's journal (in /run) gets the operation that puts it back; `undo=repeat`
# journals the operation itself (a container removed again, so the restored definition recreates
# it). When an operation with `rollback=1` (the restart and its health check) fails, the batch
# stops the unit, replays the journal newest first, reloads systemd, starts the unit and checks
# its health again, and says `rollback<TAB>ok` or `rollback<TAB>fail<TAB>BASE64` before the
# failure line. A batch that ends otherwise removes what it kept (discard).
export LC_ALL=C
T=$(printf '\t')
SELF=${1-}
NL='
'
tmp=
i=-
stop=
# Root's list of undo operations of this batch (`OP<TAB>fields`), and set while the rollback
# replays it (nothing is journalled then).
journal=
undoing=
# The lock file this batch holds (op_lock), cleared when it ends.
lock_path=
# -r: a release's temporary directory too (always a name mktemp made, in the pinned directory).
cleanup() {
  if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi
  if [ -n "$journal" ]; then
    discard_all
    rm -f -- "$journal"
  fi
  # The batch is ending, however it ends: it no longer holds the lock (the kernel lets go of the
  # flock with fd 9), so the file no longer names it.
  if [ -n "$lock_path" ]; then
    : >"$lock_path"
    lock_path=
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 129' TERM HUP PIPE
trap 'stop=1' INT
# A child's failure is reported by the child; 3 tells its parent so.
failed=1
say_fail() { printf '%s\tfail\t%s\n' "$i" "$(printf '%s' "$1" | base64 -w0)"; }
fail() {
  # The restart or its health check failed: back to the state before this run first.
  if [ "$rollback" = 1 ] && [ -n "$journal" ] && [ -z "$undoing" ] && [ "$failed" = 1 ]; then
    roll_back
  fi
  say_fail "$1"
  exit "$failed"
}
run() { o=$("$@" 2>&1 </dev/null) || fail "$* failed: $o"; }

# Sets one variable per named field of the header line $1; no other variable is touched.
parse() {
  action='' as='' backend='' format='' from='' group='' home='' image='' keep='' mode='' name=''
  path='' rollback='' seconds='' serial='' sha256='' shell='' size='' strip='' target='' tree=''
  undo='' unit='' user='' was=''
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
    from=*) from=${f#*=} ;;
    group=*) group=${f#*=} ;;
    home=*) home=${f#*=} ;;
    image=*) image=${f#*=} ;;
    keep=*) keep=${f#*=} ;;
    mode=*) mode=${f#*=} ;;
    name=*) name=${f#*=} ;;
    path=*) path=${f#*=} ;;
    rollback=*) rollback=${f#*=} ;;
    seconds=*) seconds=${f#*=} ;;
    serial=*) serial=${f#*=} ;;
    sha256=*) sha256=${f#*=} ;;
    shell=*) shell=${f#*=} ;;
    size=*) size=${f#*=} ;;
    strip=*) strip=${f#*=} ;;
    target=*) target=${f#*=} ;;
    tree=*) tree=${f#*=} ;;
    undo=*) undo=${f#*=} ;;
    unit=*) unit=${f#*=} ;;
    user=*) user=${f#*=} ;;
    was=*) was=${f#*=} ;;
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

# An undo operation (`OP<TAB>fields`) for the rollback. Root's batch keeps it in its journal; a
# child running as the account says it on its stdout, and its parent keeps it.
remember() {
  [ -z "$undoing" ] || return 0
  if [ "$failed" = 3 ]; then
    printf 'undo\t%s\n' "$1"
    return
  fi
  if [ -z "$journal" ]; then
    journal=$(mktemp /run/hermes-fleet-undo.XXXXXX 2>&1 </dev/null) || {
      journal=
      fail "cannot create the rollback journal in /run"
    }
  fi
  printf '%s\n' "$1" >>"$journal" || fail "cannot write the rollback journal $journal"
}

# Before an operation changes $path: what is there now, journalled as the `undo` operation that
# puts it back, by the same actor. A regular file is kept whole under a new name in its own
# directory (a hard link: its bytes, owner and mode stay as they are, whatever replaces the name);
# a link by its target; a directory by owner and mode; nothing by its absence.
save_before() {
  pin "cannot keep $path for a rollback"
  rec="undo${T}path=$path"
  [ -z "$as" ] || rec="$rec${T}as=$as"
  [ -z "$tree" ] || rec="$rec${T}tree=$tree"
  if [ -L "$b" ]; then
    t=$(readlink -- "$b" </dev/null) || fail "cannot read the link $path"
    case $t in *"$T"* | *"$NL"*) fail "$path links to a name with a tab or newline: cannot keep it for a rollback" ;; esac
    rec="$rec${T}was=link${T}target=$t"
  elif [ -f "$b" ]; then
    kept=.hermes-fleet.undo.$$.$i
    # -P: a name swapped for a link since the test is kept as that link, never followed.
    ln -P -- "$b" "$kept" 2>/dev/null || run cp -P -p -- "$b" "$kept"
    a=$(stat -c "mode=%a${T}user=%u${T}group=%g" -- "$kept" </dev/null) || fail "cannot stat $path"
    rec="$rec${T}was=file${T}from=$kept$T$a"
  elif [ -d "$b" ]; then
    a=$(stat -c "mode=%a${T}user=%u${T}group=%g" -- "$b" </dev/null) || fail "cannot stat $path"
    rec="$rec${T}was=dir$T$a"
  elif [ -e "$b" ]; then
    fail "$path is not a file, a link or a directory: it cannot be kept for a rollback"
  else
    rec="$rec${T}was=absent"
  fi
  remember "$rec"
}

# Puts $path back as save_before found it (`was`).
op_undo() {
  pin "cannot put $path back"
  case $was in
  file)
    run mv -Tf -- "$from" "$b"
    open5 "$b" "$path" f
    # An attrs operation changed the kept inode itself: its owner and mode go back too.
    if [ "$(stat -L -c '%a:%u:%g' /proc/self/fd/5)" != "$mode:$user:$group" ]; then
      run chown -- "$user:$group" /proc/self/fd/5
      run chmod -- "0$mode" /proc/self/fd/5
    fi
    exec 5>&-
    ;;
  link) relink ;;
  dir)
    open5 "$b" "$path" d
    run chown -- "$user:$group" /proc/self/fd/5
    run chmod -- "0$mode" /proc/self/fd/5
    exec 5>&-
    ;;
  absent)
    # A directory this run made goes only when empty: anything in it is someone's.
    if [ -d "$b" ] && [ ! -L "$b" ]; then
      rmdir -- "$b" 2>/dev/null || true
    else
      run rm -f -- "$b"
    fi
    ;;
  esac
}

# A batch that needs no rollback removes what save_before kept.
op_discard() {
  [ -n "$from" ] || return 0
  pin
  run rm -f -- "$from"
}

# Every kept file removed, each by the actor that kept it; failures are left to the next run
# (its dirs task removes `.hermes-fleet.*` leftovers).
discard_each() {
  undoing=1
  trap - EXIT
  trap '' INT HUP PIPE
  while IFS= read -r jl <&4; do
    case $jl in "undo$T"*) ;; *) continue ;; esac
    line="-${T}discard$T${jl#"undo$T"}"
    parse "$line"
    (dispatch) || true
  done 4<"$journal"
}
discard_all() {
  [ -s "$journal" ] || return 0
  (discard_each) >/dev/null 2>&1 </dev/null || true
}

# The restart or health check after the changes failed: the unit stopped (by the definition that
# started it), every journalled operation replayed newest first, systemd reloaded, the unit
# started and checked again. In a subshell, so a failure of the rollback ends it alone; nothing
# stops it half-way (Ctrl-C or a lost connection).
replay_journal() {
  undoing=1
  trap - EXIT
  trap '' INT HUP PIPE
  i=rollback
  run systemctl stop -- "$h_unit"
  rev=$(tac -- "$journal")
  while IFS= read -r jl <&4; do
    line="rollback$T$jl"
    parse "$line"
    dispatch
  done 4<<REV
$rev
REV
  run systemctl daemon-reload
  run systemctl start -- "$h_unit"
  unit=$h_unit seconds=$h_seconds user=$h_user rollback=
  check_health
}
roll_back() {
  # Said first, so the controller's timeline can tell the failed check from the rollback.
  printf 'rollback\tbegin\n'
  h_unit=$unit h_seconds=$seconds h_user=$user
  said=$( (replay_journal) </dev/null 2>&1)
  why=
  while IFS= read -r said_line; do
    case $said_line in "rollback${T}fail$T"*) why=${said_line#"rollback${T}fail$T"} ;; esac
  done <<SAID
$said
SAID
  if [ -n "$why" ]; then
    printf 'rollback\tfail\t%s\n' "$why"
  else
    printf 'rollback\tok\n'
  fi
  # What the rollback put back is no longer kept; nothing is left to discard or replay.
  rm -f -- "$journal"
  journal=
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

# A copy of file $2 (read as account $3, `-` for root) kept as $1 in the new generation, and its
# line in the manifest: name, mode:user:group (or absent), sha256, secret (1 or 0), path, account
# (what restore_generation needs to put it back). The account's
# files are read by the account, and the bytes stream to root here: root never opens a name in
# the account's tree.
keep_file() {
  dest=$new/files/$1
  mkdir -p -- "${dest%/*}" || fail "cannot create ${dest%/*}"
  if [ "$3" = - ]; then
    st=$(stat -L -c '%a:%U:%G' -- "$2" 2>/dev/null </dev/null) || st=
    if [ -n "$st" ]; then cat -- "$2" >"$dest" </dev/null || fail "cannot read $2"; fi
  else
    g=$(id -g -- "$3" 2>/dev/null </dev/null) || fail "user $3 does not exist"
    st=$(setpriv --reuid="$3" --regid="$g" --init-groups -- stat -L -c '%a:%U:%G' -- "$2" \
      2>/dev/null </dev/null) || st=
    if [ -n "$st" ]; then
      setpriv --reuid="$3" --regid="$g" --init-groups -- cat -- "$2" >"$dest" </dev/null ||
        fail "cannot read $2 as $3"
    fi
  fi
  if [ -n "$st" ]; then
    sum=$(sha256sum <"$dest") || fail "cannot hash $dest"
    sum=${sum%% *}
  else
    st=absent sum=-
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$st" "$sum" "$4" "$2" "$3" >>"$new/manifest" ||
    fail "cannot write $new/manifest"
}

# A new generation in root's directory $path (see the `generation` change, src/plan/types.ts):
# N+1 (N the highest there), made under a temporary name and renamed whole, then `current`
# names it and all but the newest $keep are removed. Everything in it is root's, 0600 in 0700.
record_generation() {
  umask 077
  gbody=$(head -c "$size")
  mkdir -p -- "$path" || fail "cannot create $path"
  chmod 0700 -- "$path" || fail "cannot chmod $path"
  last=0
  for g in "$path"/*; do
    n=${g##*/}
    case $n in '' | *[!0-9]*) continue ;; esac
    [ "$n" -le "$last" ] || last=$n
  done
  n=$((last + 1))
  new=$path/.new.$n
  rm -rf -- "$new"
  mkdir -- "$new" "$new/files" || fail "cannot create $new"
  printf 'number=%s\ntime=%s\n' "$n" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$new/meta" ||
    fail "cannot write $new/meta"
  : >"$new/manifest"
  while IFS=$T read -r kind a1 a2 a3 a4; do
    case $kind in
    meta) printf '%s\n' "$a1" >>"$new/meta" ;;
    link)
      if t=$(readlink -- "$a1" 2>/dev/null </dev/null); then
        printf 'release=%s\n' "${t##*/}" >>"$new/meta"
      fi
      ;;
    file) keep_file "$a1" "$a2" "$a3" "$a4" ;;
    esac
  done <<BODY
$gbody
BODY
  mv -T -- "$new" "$path/$n" || fail "cannot rename $new to $path/$n"
  printf '%s\n' "$n" >"$path/.current.new" || fail "cannot write $path/current"
  mv -f -- "$path/.current.new" "$path/current" || fail "cannot write $path/current"
  # Numbered below n, newest first: the ones beyond $keep (n itself counted) go.
  count=1
  while [ "$n" -gt 1 ]; do
    n=$((n - 1))
    [ -d "$path/$n" ] || continue
    count=$((count + 1))
    [ "$count" -le "$keep" ] || rm -rf -- "${path:?}/$n"
  done
}

# Puts generation $name back (`previous`: the newest one below the current): each file it kept is
# written to its path by an ordinary `file` operation of its own actor, with the kept bytes as its
# body; one it found absent is removed. With `undo=each` each is kept first (undo=path), so a
# failure of the restart after it puts back the state before the restore.
restore_generation() {
  g=$name
  if [ "$g" = previous ]; then
    cur=$(cat -- "$path/current" 2>/dev/null </dev/null) || fail "no generation recorded on this host"
    g=
    n=$cur
    while [ "$n" -gt 1 ]; do
      n=$((n - 1))
      if [ -d "$path/$n" ]; then
        g=$n
        break
      fi
    done
    [ -n "$g" ] || fail "no generation before $cur is kept on this host (see hermes-fleet generations)"
  fi
  src=$path/$g
  [ -f "$src/manifest" ] || fail "generation $g is not kept on this host (see hermes-fleet generations)"
  armed=
  [ "$undo" != each ] || armed=1
  at=$i
  while IFS=$T read -r fname fattrs _ _ fpath fas <&6; do
    [ -n "$fpath" ] || fail "generation $g has no paths in its manifest (recorded by an older hermes-fleet)"
    if [ "$fattrs" = absent ]; then
      line="$at${T}remove${T}path=$fpath"
      body=/dev/null
    else
      body=$src/files/$fname
      fsize=$(stat -c %s -- "$body" </dev/null) || fail "generation $g lacks its copy of $fname"
      fmode=${fattrs%%:*}
      fown=${fattrs#*:}
      line="$at${T}file${T}path=$fpath${T}mode=$fmode${T}user=${fown%%:*}${T}group=${fown#*:}${T}size=$fsize"
    fi
    [ "$fas" = - ] || line="$line${T}as=$fas"
    [ -z "$armed" ] || line="$line${T}undo=path"
    parse "$line"
    dispatch <"$body"
  done 6<"$src/manifest"
  printf 'restored\t%s\n' "$g"
}

# The host's lock (src/runner/host-lock.ts): one batch at a time changes this host. An flock on
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
  fi
  printf 'lock\ttaken\t%s\n' "$(base64 -w0 <"$path")"
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
  generation) (record_generation) || exit "$failed" ;;
  generation-restore) restore_generation ;;
  wait-healthy)
    cmd=
    if [ "${size:-0}" -gt 0 ]; then cmd=$(head -c "$size"); fi
    check_health
    ;;
  undo) op_undo ;;
  discard) op_discard ;;
  release-unpack) op_release_unpack ;;
  release-switch) op_release_switch ;;
  release-remove) op_release_remove ;;
  image-load) op_image_load ;;
  lock) op_lock ;;
  *) fail "unknown operation $op" ;;
  esac
}

# The operation parsed last, with what the rollback needs kept first.
run_op() {
  case $undo in
  path) save_before ;;
  repeat)
    rest=${line#*"$T"}
    remember "$op$T${rest#*"$T"}"
    ;;
  esac
  apply_op
}

# In a child started for an `as=` operation: $2 is that operation's header line.
if [ -n "${2-}" ]; then
  failed=3
  line=$2
  parse "$line"
  run_op
  exit 0
fi

# The group of each account an operation runs as, looked up once.
as_user=
as_group=

# Runs the operation parsed last from header $line: here, or with `as=` in a child as that
# account, whose undo lines are journalled here.
dispatch() {
  if [ -z "$as" ]; then
    run_op
    return
  fi
  if [ "$as" != "$as_user" ]; then
    as_group=$(id -g -- "$as" 2>/dev/null </dev/null) || fail "user $as does not exist"
    as_user=$as
  fi
  # The same program, run as the account: an empty $SELF would run nothing and report ok.
  [ -n "$SELF" ] || fail "cannot run as $as: the program did not get its own text"
  # The child never holds root's stdin or stdout (it could read ahead into the operations
  # that follow, or print their answers): it gets its own body on a pipe, and what it says
  # comes back here, where only its own failure line and undo lines are passed on.
  if [ "${size:-0}" -gt 0 ]; then
    said=$(head -c "$size" | setpriv --reuid="$as" --regid="$as_group" --init-groups -- \
      /bin/sh -c "$SELF" hermes-fleet "$SELF" "$line" 2>&1)
  else
    said=$(setpriv --reuid="$as" --regid="$as_group" --init-groups -- \
      /bin/sh -c "$SELF" hermes-fleet "$SELF" "$line" </dev/null 2>&1)
  fi
  rc=$?
  why=
  while IFS= read -r said_line; do
    case $said_line in
    "$i${T}fail$T"*) why=${said_line#"$i${T}fail$T"} ;;
    "undo$T"*) [ "$rc" != 0 ] || remember "${said_line#"undo$T"}" ;;
    esac
  done <<SAID
$said
SAID
  if [ "$rc" != 0 ]; then
    if [ "$rc" = 3 ] && [ -n "$why" ]; then
      printf '%s\tfail\t%s\n' "$i" "$why"
      exit 1
    fi
    fail "running as $as failed (exit $rc): $said"
  fi
}

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
  dispatch
  printf '%s\tok\n' "$i"
done
i=-
if [ -n "$stop" ]; then printf 'interrupted\n'; else printf 'end\n'; fi
