# shellcheck shell=sh
# ops/accounts.sh (part of apply.sh): the service account's group and user, made when missing
# (group-create, user-create); one that exists is left as it is. Offers nothing to the others.

op_group_create() {
  getent group -- "$name" >/dev/null </dev/null || run groupadd --system "$name"
}

op_user_create() {
  getent passwd -- "$name" >/dev/null </dev/null ||
    run useradd --system --gid "$group" --home-dir "$home" --no-create-home --shell "$shell" "$name"
}
