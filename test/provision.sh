#!/usr/bin/env bash
# Installs the Debian packages that the tests, the lint and the test fleet need on this machine
# (the controller), as root, when they are missing; not as root, prints one line saying what to
# install. npm test runs it first (vitest's globalSetup, test/global-setup.ts), so the test files'
# skip conditions see the packages; .ci/run runs it too.
#
#   bash test/provision.sh          # everything below
#   bash test/provision.sh fleet    # only what fleet.sh needs (the test hosts)
set -euo pipefail

# The one list. Fleet: fleet.sh builds the hosts' image and boots them (debootstrap,
# systemd-nspawn, ssh and ssh-keygen, pgrep and sysctl), the e2e tests use ssh, ssh-agent and ss.
FLEET=(debootstrap systemd-container openssh-client iproute2 procps ca-certificates)
# Tests on the controller itself: the real-sshd transport tests (/usr/sbin/sshd), the stand-in
# hermes and the .env round trip (Debian's python3 with python-dotenv and PyYAML). Lint: shellcheck.
# Release archives: tar lists them at load time (.tar.xz, .tar.zst need xz-utils, zstd).
# Ansible inventories: the differential suite compares with the real ansible-inventory (ansible-core).
# The HTML report's test and benchmark render the page in Debian's headless chromium.
TESTS=(openssh-server python3 python3-dotenv python3-yaml shellcheck xz-utils zstd ansible-core chromium)

case ${1:-all} in
all) wanted=("${FLEET[@]}" "${TESTS[@]}") ;;
fleet) wanted=("${FLEET[@]}") ;;
*)
  echo "usage: bash test/provision.sh [fleet]" >&2
  exit 2
  ;;
esac

loud() { printf '\n!!!! %s\n\n' "$*" >&2; }

if ! command -v dpkg-query >/dev/null; then
  loud "test/provision.sh: not a Debian machine; tests that need these will be skipped: ${wanted[*]}"
  exit 0
fi

missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null || true)
for pkg in "${wanted[@]}"; do
  grep -qxF "$pkg installed" <<<"$installed" || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if [ "$(id -u)" != 0 ]; then
  loud "test/provision.sh: missing ${missing[*]}; the tests that need them will be skipped. Install them as root: apt-get install ${missing[*]}"
  exit 0
fi

# openssh-server is wanted for its sshd binary only: the tests start their own sshd. A machine-wide
# sshd on *:22 would take port 22 from the test hosts (127.0.K.I:22), so the install must not start
# it (policy-rc.d), and it is not enabled at boot either.
new_sshd=0
if [[ " ${missing[*]} " == *" openssh-server "* ]]; then new_sshd=1; fi
policy=/usr/sbin/policy-rc.d
if ((new_sshd)) && [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# test/provision.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi

started=$SECONDS
log=$(mktemp /tmp/hermes-fleet-provision.XXXXXX.log)
echo "provision: installing ${missing[*]} (first run only; apt's log: $log)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! {
  apt-get update -q &&
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
} >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "provision: apt-get install ${missing[*]} failed (log: $log)" >&2
  exit 1
fi
if ((new_sshd)) && command -v systemctl >/dev/null; then
  systemctl disable --quiet ssh.service >/dev/null 2>&1 || true
fi
rm -f "$log"
echo "provision: installed ${missing[*]} in $((SECONDS - started)) s" >&2
