# shellcheck shell=sh
# ops/accounts.sh (part of apply.sh): the service account's group and user, made when missing
# (group-create, user-create); one that exists is left as it is; a person added to the group
# (group-member). And the host's own software
# the account's gateway uses: package-install (extraPackages, with apt). Offers nothing to the
# others.

op_group_create() {
  getent group -- "$name" >/dev/null </dev/null || run groupadd --system "$name"
}

op_user_create() {
  getent passwd -- "$name" >/dev/null </dev/null ||
    run useradd --system --gid "$group" --home-dir "$home" --no-create-home --shell "$shell" "$name"
}

# A person (container.hostUsers) added to the account's group, unless already in it.
op_group_member() {
  getent passwd -- "$name" >/dev/null </dev/null || fail "user $name does not exist on the host"
  for g in $(id -nG -- "$name" </dev/null); do [ "$g" != "$group" ] || return 0; done
  run usermod -a -G "$group" "$name"
}

# The Debian packages named in the body, one per line (each checked at load time to be a Debian
# package name, so none reads as an option), installed with apt-get; the package lists are
# refreshed once when the install fails on them (a fresh host may have none). A host without
# apt-get fails with what to do.
op_package_install() {
  command -v apt-get >/dev/null 2>&1 </dev/null ||
    fail "extraPackages are Debian packages, installed with apt-get, and this host has no apt-get: install them another way and drop extraPackages for it"
  names=$(head -c "$size")
  set -f
  old_ifs=$IFS
  IFS=$NL
  # shellcheck disable=SC2086 # one checked package name per line
  set -- $names
  IFS=$old_ifs
  set +f
  [ "$#" -gt 0 ] || fail "package-install names no package"
  for n in "$@"; do
    # apt-get reads a trailing - as "remove": never let a name do that.
    case $n in -* | *-) fail "package name $n: apt-get would read it as an option or a removal" ;; esac
  done
  # Another apt (apt-daily, unattended-upgrades on a fresh host) may hold dpkg's lock: wait for it.
  lock='-o DPkg::Lock::Timeout=300'
  # shellcheck disable=SC2086 # $lock is one option and its value
  if ! o=$(DEBIAN_FRONTEND=noninteractive apt-get $lock install -y -q --no-install-recommends "$@" \
    2>&1 </dev/null 9>&-); then
    # shellcheck disable=SC2086
    run env DEBIAN_FRONTEND=noninteractive apt-get $lock update -q
    # shellcheck disable=SC2086
    o=$(DEBIAN_FRONTEND=noninteractive apt-get $lock install -y -q --no-install-recommends "$@" \
      2>&1 </dev/null 9>&-) || fail "apt-get install $* failed: $(printf '%s\n' "$o" | tail -n 5)"
  fi
  # apt-get reads a name that is no package as a pattern (or a virtual package): only names dpkg
  # now says are installed count, so a run never passes on something else.
  for n in "$@"; do
    st=$(dpkg-query -W -f '${db:Status-Abbrev}' -- "$n" </dev/null 2>/dev/null)
    case $st in ?i*) ;; *) fail "package $n is not installed after apt-get install: it is no package of that exact name (apt-get may have read it as a pattern or a virtual package); name the package itself" ;; esac
  done
}
