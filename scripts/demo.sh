#!/usr/bin/env bash
# The README's first command: boots three local test hosts, deploys hermes-agent to them with
# live progress, deploys again to show that nothing changes, and says what to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/hermes-fleet.cjs ] || npm run --silent build
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }

bold "1/3  Booting three Debian test hosts (the first time builds their image: about a minute)"
bash test/fleet/fleet.sh up 3

bold "2/3  hermes-fleet run -i inventory/demo.yaml"
./bin/hermes-fleet run -i inventory/demo.yaml || true

bold "3/3  The same again: every task is ok, nothing is rewritten or restarted"
./bin/hermes-fleet run -i inventory/demo.yaml --detailed-exitcode && echo "exit 0: the fleet is in sync"

cat <<'MSG'

What to look at:
  npm run fleet -- ssh 1 systemctl status hermes-agent
  npm run fleet -- ssh 1 cat /var/lib/hermes/.hermes/config.yaml
  npm run fleet -- ssh 3 cat /var/lib/hermes/.hermes/standin-record.json   # what the gateway saw
  ./bin/hermes-fleet run -i inventory/demo.yaml --check --diff -e hermes.settings.model=x/y
Tear down:
  npm run fleet -- down
MSG
