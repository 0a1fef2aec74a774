# shellcheck shell=sh
# ops/release.sh (part of apply.sh): the release operations in root's release root:
# release-unpack (an archive on stdin or downloaded, unpacked, checked and renamed whole), release-switch
# (`current` relinked) and release-remove. Offers nothing to the others.

# The release's bytes on stdout: the body that follows the operation (size bytes), or, with a
# url, the host's own download (curl, else wget; the plan checked one is there): no retry, an
# HTTP error is an error, a transfer stalled for a minute is given up (the batch holds the
# host's lock meanwhile). The URL is one argument, never part of a command line. The fetcher's
# exit code goes to $tmp/fetched and its words to $tmp/fetch.err.
release_bytes() {
  if [ -z "$url" ]; then
    head -c "$size"
    return
  fi
  if command -v curl >/dev/null 2>&1; then
    curl -q --fail --silent --show-error --location --proto =http,https \
      --connect-timeout 30 --speed-limit 1024 --speed-time 60 -- "$url" 2>"$tmp/fetch.err"
  elif command -v wget >/dev/null 2>&1; then
    wget --no-verbose --tries=1 --timeout=60 -O - -- "$url" 2>"$tmp/fetch.err"
  else
    echo "it has neither curl nor wget: install the curl or wget package" >"$tmp/fetch.err"
    return 127
  fi
}

# strip=auto (a download, never listed by the controller): bin/hermes at the top of the
# unpacked tree, or under its one top-level directory, as findHermes decides for an upload.
# Prints the directory that is the release.
release_top() {
  [ -e "$1/bin/hermes" ] && { echo "$1"; return; }
  one=
  count=0
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    count=$((count + 1))
    one=$e
  done
  if [ "$count" = 1 ] && [ -d "$one" ] && [ ! -L "$one" ]; then echo "$one"; else echo "$1"; fi
}

# A release: the archive's bytes (the body, or the download) are unpacked as they arrive into a
# temporary directory beside the final name, while sha256sum reads the same stream (tee into a
# fifo): one pass, no copy of the archive on disk. Only a release whose bytes have the sha256
# the plan names, that tar unpacked whole and that has an executable bin/hermes is renamed to
# releases/<id>: a release under its final name is always whole. With check=plugin the tree is a
# plugin (extraPlugins), unpacked the same way into root's plugin store, and must hold
# plugin.yaml instead. Root's tree: owned by root,
# no group or other write bit, no setuid bit, whatever the archive says. tee -p keeps reading
# when tar stops early (a corrupt archive), so every byte of the body is consumed and the
# operations after it stay in step. A failure (a full disk, a cut connection, a download that
# stopped) leaves the temporary directory, which the trap removes; the next run removes any a
# killed run left.
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
  case $strip in auto) n=0 ;; *) n=$strip ;; esac
  top=$tmp/tree
  if [ "$staged" = 1 ]; then
    # Unpacked by detach.sh as it arrived (root's $D, 0700): what tar and sha256sum said there
    # is judged here, as for an upload unpacked in the batch.
    u=$stage/$sha256
    if [ -z "$stage" ] || [ ! -d "$u/tree" ]; then
      fail "release $b: its upload was not staged before the batch; nothing was installed"
    fi
    top=$u/tree
    untarred=$(cat -- "$u/tar.rc" </dev/null)
    o=$(cat -- "$u/tar.out" </dev/null)
    got=$(cat -- "$u/sum" </dev/null)
  else
    run mkdir -m 0700 -- "$tmp/tree"
    run mkfifo -m 0600 -- "$tmp/fifo"
    sha256sum <"$tmp/fifo" >"$tmp/sum" 2>/dev/null 9>&- &
    summing=$!
    # shellcheck disable=SC2086 # $z is one option or none
    o=$({ { release_bytes; echo "$?" >"$tmp/fetched"; } | tee -p -- "$tmp/fifo" |
      (umask 022 && tar -x $z --file - --directory "$tmp/tree" --no-same-owner \
        --no-same-permissions --strip-components="$n"); } 2>&1)
    untarred=$?
    wait "$summing"
    got=$(cat -- "$tmp/sum" </dev/null)
  fi
  got=${got%% *}
  fetched=$(cat -- "$tmp/fetched" </dev/null 2>/dev/null)
  if [ -n "$url" ] && [ "$fetched" != 0 ]; then
    # The last line said: wget's names the URL on a line before it (a query may hold a token).
    # wget says nothing of a connection cut mid-file: its exit code does (4, a network failure).
    o=$(grep -v '^[[:space:]]*$' -- "$tmp/fetch.err" </dev/null | tail -n 1)
    o=${o#[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] }
    case $fetched in 4) w='a network failure' ;; 8) w='an HTTP error' ;; *) w="exit code $fetched" ;; esac
    fail "release $b: the download failed (${o:-$w}); nothing was installed"
  fi
  # No sum at all and tar failed: the disk filled up before even the sum could be written, and
  # tar's own words say so (No space left on device).
  [ -n "$got" ] || [ "$untarred" = 0 ] || fail "unpacking release $b failed: $o"
  if [ "$got" != "$sha256" ]; then
    [ -z "$url" ] ||
      fail "release $b: the file downloaded has sha256 ${got:-none}, not the sha256 given ($sha256); nothing was installed"
    fail "release $b: the upload arrived incomplete or corrupted (sha256 ${got:-none}, expected $sha256); nothing was installed"
  fi
  [ "$untarred" = 0 ] || fail "unpacking release $b failed: $o"
  [ "$strip" != auto ] || top=$(release_top "$top")
  if [ "$check" = plugin ]; then
    if [ ! -f "$top/plugin.yaml" ] || [ -L "$top/plugin.yaml" ]; then
      fail "plugin $b has no plugin.yaml once unpacked; nothing was installed"
    fi
  elif [ ! -x "$top/bin/hermes" ] || [ -d "$top/bin/hermes" ]; then
    fail "release $b has no executable bin/hermes once unpacked (at its top or under its one top-level directory); nothing was installed"
  fi
  run chmod -R go-w,ug-s -- "$top"
  run chmod 0755 -- "$top"
  # A stage on another file system than the release root: mv would copy it under the final
  # name (not atomic), so it is copied beside it first, then renamed.
  if [ "$staged" = 1 ] && [ "$(stat -c %d -- "$top")" != "$(stat -c %d -- .)" ]; then
    run cp -a -- "$top" "$tmp/tree"
    top=$tmp/tree
  fi
  run mv -T -- "$top" "$b"
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
