# shellcheck shell=sh
# ops/files.sh (part of apply.sh): the operations on one path: dir, file (the atomic write),
# attrs, symlink, remove, tree-remove. Each works in the directory pin entered, on fd 5 (lib/pin.sh). Offers
# op_file and op_remove to the others (restart-pending, generation-restore).

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

op_symlink() {
  pin
  relink
}

# A directory of a person's own set aside under a name beside it (the plan checked that name is
# free): renamed, never deleted. Done as the person, in the person's own home.
op_set_aside() {
  pin
  t=${target##*/}
  if [ -e "$t" ] || [ -L "$t" ]; then fail "cannot set $path aside: $target exists"; fi
  run mv -T -- "$b" "$t"
}

op_remove() {
  pin
  run rm -f -- "$b"
}

# A directory removed whole, by root, from inside its parent (root's): rm -rf never follows a
# link in it, and a link (or anything but a directory) in its place is refused. Gone already: done.
op_tree_remove() {
  pin
  if [ -L "$b" ]; then fail "$path is a symbolic link: not removing it"; fi
  [ -e "$b" ] || return 0
  [ -d "$b" ] || fail "$path is not a directory: not removing it"
  run rm -rf --one-file-system -- "$b"
}
