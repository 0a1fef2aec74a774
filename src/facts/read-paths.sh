# shellcheck shell=sh
# read-paths.sh (part of read.sh; src/facts/program.ts joins the parts): the answers about a
# path. Offers: classify (a path request answered at once, or its kind left for the one batched
# stat), answer STAT (a classified path's answer), content6 ID STAT (a file's content, for a name
# the batched stat found as ID), file6 (a file's content, read through fd 6 checked to be the
# regular file the name holds) and read_as_root (a file in the account's tree the account cannot
# read, read by root from inside its pinned directory). Uses read.sh's st, $L, $FORMAT and $CHILD.

# The account can swap a name it owns for a link at any moment, also between the checks below
# and the read: content comes from fd 6, opened on the name and checked to be the regular file
# the name holds, so a link's target (/etc/shadow, say) never comes back as the file's content,
# into --diff and the reports. A file that changed so is answered with ~.
#
# file6 opens first and compares the name's lstat with the open file's after; content6 gets the
# name's lstat (device and inode) from the one batched stat, taken before the open, and compares
# the open file's with it: either way the bytes read are those of the very inode the name held as
# a regular file (a link's own inode is never the one an open reaches). content6 costs two
# processes a file instead of three, and a no-op read is mostly such files.
unreadable6() {
  # The account cannot read a file someone else owns in its tree: root reads it (retry).
  if [ "$CHILD" = account ] && [ -n "$tree" ]; then printf '%s\tretry\n' "$i"; return; fi
  printf '%s\tfile\t%s\t!\n' "$i" "$(st "$path")"
}
# Sends fd 6's bytes after the answer's head: `INDEX<TAB>file<TAB>STAT<TAB>`.
send6() {
  printf '%s\tfile\t%s\t' "$i" "$1"
  base64 -w0 <&6 || printf '!'
  printf '\n'
}
# Opens fd 6 on $path, or answers that it cannot be read (false).
open6() {
  command exec 6<"$path" 2>/dev/null && return 0
  unreadable6
  return 1
}
# fd 6 (open on $path) sent when it is a regular file whose device:inode is $1, else ~; closed.
check6() {
  if [ -f /proc/self/fd/6 ] && s=$(stat -L -c "%d:%i $FORMAT" /proc/self/fd/6) &&
    [ "${s%% *}" = "$1" ]; then
    send6 "${s#* }"
  else
    printf '%s\tfile\t%s\t~\n' "$i" "$(st "$path")"
  fi
  exec 6<&-
}
file6() {
  open6 || return 0
  # shellcheck disable=SC2086 # $L is -L or nothing
  if { [ -n "$L" ] || [ ! -L "$path" ]; } && id=$(stat $L -c '%d:%i' -- "$path" </dev/null); then
    check6 "$id"
  else
    check6 -
  fi
}
# $1: the name's device:inode as the batched stat (no link followed) found it, before the open.
content6() {
  open6 || return 0
  check6 "$1"
}

# A path whose answer is its kind and stat alone: the stat is left to the one batched call.
# Sets $kind, or answers at once (absent, content, followed) and leaves $kind empty.
classify() {
  kind=
  # Following, every test below (and stat) describes the link's target; a dangling link is
  # absent, as for the module's [ -f f ].
  if [ "$follow" = 1 ]; then L=-L; else L=; fi
  if [ -z "$L" ] && [ -L "$path" ]; then
    kind=symlink
  elif [ -f "$path" ] && [ "$content" = 1 ]; then
    if [ -n "$L" ]; then file6; else kind=content; fi
  elif [ ! -e "$path" ]; then
    printf '%s\tabsent\n' "$i"
  elif [ -n "$L" ]; then
    if [ -f "$path" ]; then printf '%s\tfile\t%s\t\n' "$i" "$(st "$path")"
    elif [ -d "$path" ]; then printf '%s\tdir\t%s\n' "$i" "$(st "$path")"
    else printf '%s\tother\t%s\n' "$i" "$(st "$path")"; fi
  elif [ -f "$path" ]; then
    # Content asked for a name that became a file since the first test: read it all the same.
    if [ "$content" = 1 ]; then kind=content; else kind='file'; fi
  elif [ -d "$path" ]; then
    kind=dir
  else
    kind=other
  fi
}

# The answer to a classified path, from its stat line $1.
answer() {
  case $kind in
  symlink) printf '%s\tsymlink\t%s\t%s\n' "$i" "$1" "$(printf '%s' "$(readlink -- "$path" </dev/null)" | base64 -w0)" ;;
  file) printf '%s\tfile\t%s\t\n' "$i" "$1" ;;
  *) printf '%s\t%s\t%s\n' "$i" "$kind" "$1" ;;
  esac
}

# A file in the account's tree that the account cannot read (someone else's: a hand-made
# config.yaml, say, that the plan will hand over): root reads it, but only from inside its
# directory, entered once and checked by pwd -P to be the one the path names (no component
# swapped for a link), and through file6's checks on the name.
read_as_root() {
  (
    d=${path%/*}
    [ -n "$d" ] || d=/
    if cd -P -- "$d" 2>/dev/null && top=$(cd -P -- "$tree" && pwd -P) &&
      [ "$(pwd -P)" = "$top${d#"$tree"}" ]; then
      path=${path##*/}
      # Never a link, a FIFO or a device: checked again right before the open.
      if [ -f "$path" ] && [ ! -L "$path" ]; then file6; else printf '%s\tfile\t\t~\n' "$i"; fi
    else
      printf '%s\tfile\t\t~\n' "$i"
    fi
  )
}
