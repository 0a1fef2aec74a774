#!/bin/sh
# Managed by hermes-fleet: the hermes-agent container's entrypoint.
set -eu
: "${HERMES_UID:?HERMES_UID must be set}"
: "${HERMES_GID:?HERMES_GID must be set}"
group_name=$(getent group "$HERMES_GID" | cut -d: -f1 || true)
if [ -z "$group_name" ]; then
  group_name=hermes
  if command -v groupadd >/dev/null 2>&1; then
    groupadd -g "$HERMES_GID" "$group_name"
  elif command -v addgroup >/dev/null 2>&1; then
    addgroup -g "$HERMES_GID" "$group_name" 2>/dev/null || true
  fi
fi
entry=$(getent passwd "$HERMES_UID" || true)
if [ -n "$entry" ]; then
  user_name=$(echo "$entry" | cut -d: -f1)
  user_home=$(echo "$entry" | cut -d: -f6)
else
  user_name=hermes
  user_home=@HOME_IN_CONTAINER@
  if command -v useradd >/dev/null 2>&1; then
    useradd -u "$HERMES_UID" -g "$HERMES_GID" -M -d "$user_home" -s /bin/sh "$user_name"
  elif command -v adduser >/dev/null 2>&1; then
    adduser -u "$HERMES_UID" -D -H -h "$user_home" -s /bin/sh -G "$group_name" "$user_name" 2>/dev/null || true
  fi
fi
mkdir -p "$user_home"
chown "$HERMES_UID:$HERMES_GID" "$user_home"
chmod 0750 "$user_home"
if [ -n "${HERMES_HOME:-}" ] && [ -d "$HERMES_HOME" ]; then
  chown -R "$HERMES_UID:$HERMES_GID" "$HERMES_HOME"
fi
if command -v setpriv >/dev/null 2>&1; then
  exec setpriv --reuid="$HERMES_UID" --regid="$HERMES_GID" --init-groups "$@"
elif command -v su >/dev/null 2>&1; then
  # shellcheck disable=SC2016 # expanded by su's shell, on purpose
  exec su -s /bin/sh "$user_name" -c 'exec "$0" "$@"' -- "$@"
fi
echo "hermes-fleet entrypoint: neither setpriv nor su in the image; refusing to run as root" >&2
exit 1
