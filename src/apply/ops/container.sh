# shellcheck shell=sh
# ops/container.sh (part of apply.sh): the container runtime's operations: container-remove and
# image-load (an image archive on stdin, checked, loaded). Offers nothing to the others.

# rm -f of a container that is already gone may fail; one that is still there must not pass, or
# the next start would run the old container under the new identity.
op_container_remove() {
  o=$("$backend" rm -f -- "$name" 2>&1 </dev/null) ||
    if "$backend" container inspect -- "$name" >/dev/null 2>&1 </dev/null; then
      fail "$backend rm -f $name failed: $o"
    fi
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
