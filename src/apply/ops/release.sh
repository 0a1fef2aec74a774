# shellcheck shell=sh
# ops/release.sh (part of apply.sh): the release operations in root's release root:
# release-unpack (an archive on stdin unpacked, checked and renamed whole), release-switch
# (`current` relinked) and release-remove. Offers nothing to the others.

# A release: the archive's bytes (the body) are unpacked as they arrive into a temporary
# directory beside the final name, while sha256sum reads the same stream (tee into a fifo): one
# pass, no copy of the archive on disk. Only a release whose bytes have the sha256 the plan
# names, that tar unpacked whole and that has an executable bin/hermes is renamed to
# releases/<id>: a release under its final name is always whole. With check=plugin the tree is a
# plugin (extraPlugins), unpacked the same way into root's plugin store, and must hold plugin.yaml. Root's tree: owned by root,
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
  sha256sum <"$tmp/fifo" >"$tmp/sum" 2>/dev/null 9>&- &
  summing=$!
  # shellcheck disable=SC2086 # $z is one option or none
  o=$({ head -c "$size" | tee -p -- "$tmp/fifo" | (umask 022 && tar -x $z --file - \
    --directory "$tmp/tree" --no-same-owner --no-same-permissions \
    --strip-components="$strip"); } 2>&1)
  untarred=$?
  wait "$summing"
  got=$(cat -- "$tmp/sum" </dev/null)
  got=${got%% *}
  # No sum at all and tar failed: the disk filled up before even the sum could be written, and
  # tar's own words say so (No space left on device).
  [ -n "$got" ] || [ "$untarred" = 0 ] || fail "unpacking release $b failed: $o"
  [ "$got" = "$sha256" ] ||
    fail "release $b: the upload arrived incomplete or corrupted (sha256 ${got:-none}, expected $sha256); nothing was installed"
  [ "$untarred" = 0 ] || fail "unpacking release $b failed: $o"
  if [ "$check" = plugin ]; then
    if [ ! -f "$tmp/tree/plugin.yaml" ] || [ -L "$tmp/tree/plugin.yaml" ]; then
      fail "plugin $b has no plugin.yaml once unpacked; nothing was installed"
    fi
  elif [ ! -x "$tmp/tree/bin/hermes" ] || [ -d "$tmp/tree/bin/hermes" ]; then
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
