# shellcheck shell=sh
# lib/pin.sh (part of apply.sh): root's way into a tree the service account owns. Offers: pin
# (enters the directory that holds $path, checked, and sets $b to the name in it), open5 NAME
# PATH f|d (the name opened on fd 5, checked to be the inode it holds), linked, is_kind, and
# relink (a symbolic link $b -> $target, renamed over the old one).

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

# A new link beside the name, renamed over it: the name is the old link or the new, never none.
relink() {
  tmp=./.hermes-fleet.link.$$
  run ln -sfn -- "$target" "$tmp"
  run mv -Tf -- "$tmp" "$b"
  tmp=
}
