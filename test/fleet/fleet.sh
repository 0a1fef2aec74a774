#!/usr/bin/env bash
# Test hosts on this machine: each host is a Debian 11, 12 or 13 systemd-nspawn container booted
# from an overlay of its suite's cached base image, with its own sshd on 127.0.1.I:22 (the hosts share the
# machine's network namespace; all of 127/8 is local on Linux). See /work/shared/spec/test-fleet.md
# for the facts this rests on, and usage() below for the commands.
set -euo pipefail
shopt -s nullglob

# Bump whenever the image recipe below changes: the image is rebuilt and every host is wiped.
RECIPE_VERSION=4
# The Debian suites a host can run. FLEET_SUITE picks the suite of `image` and of every host;
# FLEET_HOST_SUITES="2=bullseye 3=trixie" gives single hosts another one, so one fleet can mix them.
SUITES=(bullseye bookworm trixie)
DEFAULT_SUITE=${FLEET_SUITE:-bookworm}

# FLEET_NET=K (1-254, default 1) runs a separate fleet on 127.0.K.I with its own state, ssh
# config and cgroups, so several test runs (or developers) can share one machine; the image,
# client key and known_hosts are shared.
FLEET_NET=${FLEET_NET:-1}
case "$FLEET_NET" in ([1-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-4]) ;; (*) echo "FLEET_NET must be 1-254" >&2; exit 2 ;; esac
NET_SUFFIX=$([ "$FLEET_NET" = 1 ] || echo "-net$FLEET_NET")
CACHE_DIR=${FLEET_CACHE_DIR:-/var/cache/hermes-fleet-test}
STATE_DIR=${FLEET_STATE_DIR:-/var/lib/hermes-fleet-test$NET_SUFFIX}
SSH_DIR=$CACHE_DIR/ssh
KEY=$SSH_DIR/id_ed25519
KNOWN_HOSTS=$SSH_DIR/known_hosts
SSH_CONFIG=$SSH_DIR/config$NET_SUFFIX
HOSTS_DIR=$STATE_DIR/hosts
LOCK_FILE=$STATE_DIR/lock
BOOT_TIMEOUT=${FLEET_BOOT_TIMEOUT:-120}
MAX_HOSTS=254
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STANDIN=$HERE/stand-in-hermes.py

usage() {
  cat <<EOF
usage: fleet.sh COMMAND
  up N [--fresh]   boot host1..hostN (hosts already up stay up; --fresh wipes every one of them)
  down             power off every host and unmount its disk
  reset I [I...]   power off, wipe, boot again with new host keys
  reboot I [I...]  power off and boot again, keeping the disk
  ssh I [CMD...]   run CMD on hostI as root (a shell without CMD)
  status           list hosts and their state
  image            build the base image of FLEET_SUITE (default bookworm) when missing; print its path
  paths            print the client key, known_hosts and ssh config paths

FLEET_SUITE=bullseye|bookworm|trixie: every host's suite (default bookworm);
FLEET_HOST_SUITES="I=SUITE ...": single hosts' suites. A host whose suite changes is wiped.
EOF
}

check_suite() {
  local s
  for s in "${SUITES[@]}"; do [ "$1" = "$s" ] && return 0; done
  die 2 "unknown Debian suite '$1' (one of: ${SUITES[*]})"
}

# Bookworm's image keeps the path it always had, so a fleet of today's tests moves nothing; the
# other suites' images live in a folder of their own (which no older fleet.sh's clean-up matches).
suite_cache() {
  if [ "$1" = bookworm ]; then echo "$CACHE_DIR"; else echo "$CACHE_DIR/$1"; fi
}
image_dir() { echo "$(suite_cache "$1")/image-$RECIPE_VERSION"; }

# The suite host I runs: its entry in FLEET_HOST_SUITES, else FLEET_SUITE, else bookworm.
host_suite() {
  local entry suite=$DEFAULT_SUITE
  for entry in ${FLEET_HOST_SUITES:-}; do
    [ "${entry%%=*}" = "$1" ] && suite=${entry#*=}
  done
  echo "$suite"
}

check_suites() {
  local entry
  check_suite "$DEFAULT_SUITE"
  for entry in ${FLEET_HOST_SUITES:-}; do
    [[ $entry =~ ^[0-9]+=[a-z]+$ ]] || die 2 "FLEET_HOST_SUITES wants I=SUITE entries, got '$entry'"
    check_suite "${entry#*=}"
  done
}

# Builds the image of every suite that hosts I... run.
build_images() {
  local i suite built=' '
  for i in "$@"; do
    suite=$(host_suite "$i")
    [[ $built == *" $suite "* ]] && continue
    build_image "$suite"
    built+="$suite "
  done
}

log() { printf 'fleet: %s\n' "$*" >&2; }
die() {
  local code=$1
  shift
  printf 'fleet: %s\n' "$*" >&2
  exit "$code"
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

host_name() { echo "host$1"; }
host_addr() { echo "127.0.$FLEET_NET.$1"; }
host_dir() { echo "$HOSTS_DIR/host$1"; }

check_index() {
  if ! [[ $1 =~ ^[0-9]+$ ]] || ((10#$1 < 1 || 10#$1 > MAX_HOSTS)); then
    die 2 "host index must be a number from 1 to $MAX_HOSTS, got '$1'"
  fi
}

require_linux_root() {
  [ "$(uname -s)" = Linux ] || die 3 "test hosts need Linux (systemd-nspawn); this is $(uname -s)"
  [ "$(id -u)" = 0 ] || die 3 "test hosts need root (overlay mounts, systemd-nspawn); run as root"
}

# Installs what the harness runs on the machine itself, once (test/provision.sh has the list).
ensure_tools() {
  bash "$HERE/../provision.sh" fleet
  local tool
  for tool in debootstrap systemd-nspawn ssh ssh-keygen; do
    command -v "$tool" >/dev/null || die 3 "no $tool on this machine: see test/provision.sh"
  done
}

# The machine's own Debian mirror, so nothing but its apt sources decides where packages come from.
mirror() {
  local uri=''
  if [ -n "${FLEET_MIRROR:-}" ]; then
    uri=$FLEET_MIRROR
  elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die 3 "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list (set FLEET_MIRROR)"
  echo "$uri"
}

ensure_client_key() {
  mkdir -p "$SSH_DIR"
  chmod 700 "$SSH_DIR"
  if [ ! -f "$KEY" ] || [ ! -f "$KEY.pub" ]; then
    rm -f "$KEY" "$KEY.pub"
    ssh-keygen -q -t ed25519 -N '' -C hermes-fleet-test -f "$KEY"
  fi
  touch "$KNOWN_HOSTS"
}

# ---------------------------------------------------------------------------------------------
# Base image

# build_image SUITE: the suite's base image, when it is missing. One build per suite at a time,
# whichever fleet (FLEET_NET) asks: the others wait for it and use it.
build_image() {
  local suite=$1 image cache started tmp mirror_uri build_log
  image=$(image_dir "$suite")
  [ -f "$image/.fleet-recipe" ] && return 0
  cache=$(suite_cache "$suite")
  mkdir -p "$cache"
  exec 7>>"$cache/.build.lock"
  flock 7
  if [ -f "$image/.fleet-recipe" ]; then
    exec 7>&-
    return 0
  fi
  started=$(now)
  mirror_uri=$(mirror)
  # An interrupted build leaves a .build dir behind; it is never used, only removed here.
  for tmp in "$cache"/.image-*.build; do cleanup_build "$tmp"; done
  tmp=$cache/.image-$RECIPE_VERSION.build
  build_log=$cache/build-image.log
  : >"$build_log"
  trap 'cleanup_build "'"$tmp"'"' EXIT
  log "building the $suite base image $RECIPE_VERSION (about 2 minutes; log: $build_log)"
  mkdir -p "$tmp"
  run_logged "$build_log" debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,openssh-server,dbus,sudo,python3 \
    "$suite" "$tmp" "$mirror_uri"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # No service may start inside the chroot while packages install.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  mount -t proc proc "$tmp/proc"
  run_logged "$build_log" chroot "$tmp" apt-get update
  local extra=(podman runc python3-dotenv python3-yaml xz-utils zstd)
  # Bullseye has no podman-docker (its podman 3.0 comes without the docker command): its hosts
  # have podman only.
  [ "$suite" = bullseye ] || extra+=(podman-docker)
  run_logged "$build_log" env DEBIAN_FRONTEND=noninteractive chroot "$tmp" \
    apt-get install -y --no-install-recommends "${extra[@]}"
  run_logged "$build_log" chroot "$tmp" apt-get clean
  umount "$tmp/proc"
  rm -f "$tmp/usr/sbin/policy-rc.d"
  rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin "$tmp"/var/log/*.log "$tmp"/var/log/apt/*

  configure_image "$tmp" "$suite"
  # A build id, not just the version: a disk made on another build of the image is wiped.
  echo "$RECIPE_VERSION-$(date +%s)-$$" >"$tmp/.fleet-recipe"
  rm -rf "$image"
  mv "$tmp" "$image"
  trap - EXIT
  remove_old_images "$suite"
  exec 7>&-
  log "$suite base image ready in $(since "$started") s: $image ($(du -sh "$image" | cut -f1))"
}

image_id() { cat "$(image_dir "$1")/.fleet-recipe"; }

# What host I's disk must have been made on. Bookworm's is the bare build id, as it always was.
host_image_id() {
  local suite
  suite=$(host_suite "$1")
  if [ "$suite" = bookworm ]; then image_id bookworm; else echo "$suite $(image_id "$suite")"; fi
}

run_logged() {
  local log_file=$1
  shift
  echo "+ [$(date +%T)] $*" >>"$log_file"
  if ! "$@" >>"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die 1 "image build failed at: $* (full log: $log_file)"
  fi
}

cleanup_build() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if mountpoint -q "$dir/proc"; then umount "$dir/proc" || umount -l "$dir/proc"; fi
  rm -rf "$dir"
}

configure_image() {
  local root=$1 suite=$2
  # sysusers sometimes fails under overlayfs and leaves the host degraded; the apt timers would
  # reach for the network; none of them is what a deploy test looks at.
  local unit
  for unit in systemd-sysusers.service apt-daily.timer apt-daily-upgrade.timer \
    dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    podman-auto-update.timer podman-auto-update.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  # Trixie's systemd (257) fails systemd-modules-load on minbase's dangling
  # /etc/modules-load.d/modules.conf (-> ../modules, which nothing installs), and the host boots
  # degraded; a container loads no kernel modules anyway.
  if [ "$suite" = trixie ]; then ln -sf /dev/null "$root/etc/systemd/system/systemd-modules-load.service"; fi

  cat >"$root/etc/ssh/sshd_config.d/00-fleet.conf" <<'EOF'
# Test host: key logins only; many parallel sessions from the deploy tool.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 200
MaxSessions 100
EOF
  rm -f "$root"/etc/ssh/ssh_host_*
  : >"$root/etc/machine-id"

  chroot "$root" useradd --create-home --shell /bin/bash deploy
  # '*' instead of the locked '!': no password, but sshd still lets the key in.
  chroot "$root" usermod -p '*' deploy
  printf 'Defaults:deploy !requiretty\ndeploy ALL=(ALL:ALL) NOPASSWD: ALL\n' >"$root/etc/sudoers.d/deploy"
  chmod 440 "$root/etc/sudoers.d/deploy"
  chroot "$root" visudo -c -q -f /etc/sudoers.d/deploy

  mkdir -p "$root/etc/containers"
  cat >"$root/etc/containers/storage.conf" <<'EOF'
# overlay-on-overlayfs does not work inside these hosts; vfs does.
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
  cat >"$root/etc/containers/containers.conf" <<'EOF'
[containers]
pids_limit = 0
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
# The hosts share the machine's network namespace: a bridge network would change the machine's
# own interfaces and firewall, so containers use the host network unless told otherwise.
netns = "host"

[engine]
runtime = "runc"
EOF
  # podman-docker prints a notice on every call; tests read docker's output.
  touch "$root/etc/containers/nodocker"

  install -D -m 0755 "$STANDIN" "$root/opt/hermes/bin/hermes"
}

remove_old_images() {
  local dir keep
  keep=$(image_dir "$1")
  for dir in "$(suite_cache "$1")"/image-*/; do
    dir=${dir%/}
    [ "$dir" = "$keep" ] && continue
    if findmnt -rn -t overlay -o OPTIONS | tr ',' '\n' | grep -qxF "lowerdir=$dir"; then continue; fi
    rm -rf "$dir"
  done
}

# ---------------------------------------------------------------------------------------------
# Hosts

# The nspawn process of host I, or nothing. The pid file is checked against the process's
# command line, and a process whose pid file was lost is still found by its unique root path.
host_pid() {
  local dir pid
  dir=$(host_dir "$1")
  if [ -f "$dir/nspawn.pid" ]; then
    pid=$(<"$dir/nspawn.pid")
    if [ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "-D $dir/root "; then
      echo "$pid"
      return 0
    fi
  fi
  pgrep -o -f -- "^systemd-nspawn -D $dir/root " || true
}

is_mounted() { mountpoint -q "$(host_dir "$1")/root"; }

existing_hosts() {
  local dir
  for dir in "$HOSTS_DIR"/host*; do
    [[ ${dir##*/host} =~ ^[0-9]+$ ]] && echo "${dir##*/host}"
  done | sort -n
}

# ssh_host SECONDS I [SSH_OPTIONS...] -- CMD...: runs CMD on host I, killed after SECONDS.
ssh_host() {
  local secs=$1 i=$2 opts=()
  shift 2
  while (($# > 0)) && [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  (($# > 0)) && shift
  timeout "$secs" ssh -F "$SSH_CONFIG" "${opts[@]}" "$(host_name "$i")" -- "$@"
}

# A zombie counts as gone: nspawn outlives this script, so its parent is the machine's init,
# which may take a second to reap it.
alive() {
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]
}

# Kills everything host I runs at once, nspawn included (pulling the plug).
kill_host() {
  local i=$1 pid=$2 cg killed=0
  for cg in $(host_cgroups "$i"); do
    if [ -f "$cg/cgroup.kill" ]; then
      echo 1 >"$cg/cgroup.kill" && killed=1
    fi
  done
  ((killed)) || kill -KILL "$pid" 2>/dev/null || true
}

wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
  ! alive "$pid"
}

# stop_hosts [--hard] I...: powers hosts off in parallel, then unmounts their disks. Works for
# hosts that are half up (no sshd yet, no nspawn, only a mount, or nothing at all). --hard pulls
# the plug instead of shutting down, for hosts whose disks are wiped next anyway.
stop_hosts() {
  local hard=0 i pid entries=() jobs=()
  if [ "${1:-}" = --hard ]; then
    hard=1
    shift
  fi
  for i in "$@"; do
    pid=$(host_pid "$i")
    [ -n "$pid" ] || continue
    entries+=("$i:$pid")
    if ((hard)); then
      kill_host "$i" "$pid"
      continue
    fi
    (
      ssh_host 5 "$i" -o ConnectTimeout=2 -- systemctl poweroff --no-block >/dev/null 2>&1 ||
        kill -TERM "$pid" 2>/dev/null || true # nspawn turns SIGTERM into an orderly poweroff
    ) &
    jobs+=($!)
  done
  for pid in "${jobs[@]}"; do wait "$pid" || true; done
  local entry
  for entry in "${entries[@]}"; do
    i=${entry%%:*}
    pid=${entry#*:}
    if ! wait_gone "$pid" 30; then
      log "host$i did not power off in 30 s; killing it"
      kill_host "$i" "$pid"
      wait_gone "$pid" 10 || log "host$i: systemd-nspawn (pid $pid) survived SIGKILL"
    fi
    rm -f "$(host_dir "$i")/nspawn.pid"
  done
  for i in "$@"; do
    unmount_host "$i"
    remove_cgroups "$i"
  done
}

unmount_host() {
  local root tries=0
  root=$(host_dir "$1")/root
  while mountpoint -q "$root"; do
    if umount "$root" 2>/dev/null; then break; fi
    tries=$((tries + 1))
    if ((tries > 20)); then
      log "host$1: disk still busy; detaching it lazily"
      umount -l "$root"
      break
    fi
    sleep 0.2
  done
}

wipe_host() {
  local dir
  dir=$(host_dir "$1")
  rm -rf "$dir/upper" "$dir/work" "$dir/image"
}

# Mounts host I's disk and writes what makes it this host: address, name, keys. Host keys are
# made once per disk, before the first boot; the other files are rewritten on every boot.
prepare_host() {
  local i=$1 dir root name addr suite
  dir=$(host_dir "$i")
  root=$dir/root
  name=$(host_name "$i")
  addr=$(host_addr "$i")
  suite=$(host_suite "$i")
  # The image file names the build the disk was made on (and, but for bookworm, its suite): a disk
  # of another build or suite is wiped.
  if [ -f "$dir/image" ] && [ "$(<"$dir/image")" != "$(host_image_id "$i")" ]; then wipe_host "$i"; fi
  mkdir -p "$dir/upper" "$dir/work" "$root"
  host_image_id "$i" >"$dir/image"
  if ! mountpoint -q "$root"; then
    mount -t overlay overlay -o "lowerdir=$(image_dir "$suite"),upperdir=$dir/upper,workdir=$dir/work" "$root"
  fi

  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "$addr" "$name" >"$root/etc/hosts"
  printf 'ListenAddress %s\nHostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n' \
    "$addr" >"$root/etc/ssh/sshd_config.d/10-fleet-host.conf"
  if [ ! -s "$root/etc/machine-id" ]; then
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
    echo >>"$root/etc/machine-id"
  fi
  # Not `ssh-keygen -A`: its RSA key takes one to three seconds of CPU per host, which made a
  # fresh fleet of ten take half a minute. Ed25519 and ECDSA keys are made in milliseconds.
  if [ ! -f "$root/etc/ssh/ssh_host_ed25519_key" ]; then
    rm -f "$root"/etc/ssh/ssh_host_*
    local type
    for type in ed25519 ecdsa; do
      ssh-keygen -q -t "$type" -N '' -C "root@$name" -f "$root/etc/ssh/ssh_host_${type}_key"
    done
  fi
  local home
  for home in root home/deploy; do
    install -d -m 700 "$root/$home/.ssh"
    install -m 600 "$KEY.pub" "$root/$home/.ssh/authorized_keys"
  done
  chroot "$root" chown -R deploy:deploy /home/deploy/.ssh
  install -D -m 0755 "$STANDIN" "$root/opt/hermes/bin/hermes"
}

# Every nspawn must start from a cgroup of its own: nspawn puts itself and its container into
# "supervisor" and "payload" below its starting cgroup, so hosts started from the same cgroup
# share one cgroup tree, and one host's systemd removes the unit cgroups of another's
# ("Failed at step CGROUP", a degraded boot).
host_cgroups() {
  local base
  for base in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    [ -f "$base/cgroup.procs" ] && echo "$base/hermes-fleet-test$NET_SUFFIX/host$1"
  done
}

start_host() {
  local i=$1 dir
  dir=$(host_dir "$i")
  # No job control here, so the subshell is no process group leader: setsid execs nspawn itself
  # and $! is nspawn's pid. fd 9 is the lock: the host must not hold it after this script exits.
  (
    for cg in $(host_cgroups "$i"); do
      mkdir -p "$cg"
      echo "$BASHPID" >"$cg/cgroup.procs"
    done
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec setsid systemd-nspawn -D "$dir/root" --register=no \
      --keep-unit -b --console=pipe -M "$(host_name "$i")$NET_SUFFIX" --hostname="$(host_name "$i")" --capability=all \
      --system-call-filter='@keyring @mount @privileged bpf'
  ) </dev/null >"$dir/console.log" 2>&1 9>&- &
  echo $! >"$dir/nspawn.pid"
}

remove_cgroups() {
  local cg
  for cg in $(host_cgroups "$1"); do
    if [ -d "$cg" ]; then find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
}

# known_hosts holds one line per host key; a host's lines are replaced whenever it boots.
write_known_hosts() {
  local tmp i key addrs=''
  # Fleets on other FLEET_NETs share this file: serialise the rewrite.
  exec 8>>"$SSH_DIR/.known_hosts.lock"
  flock 8
  tmp=$(mktemp "$KNOWN_HOSTS.XXXXXX")
  for i in "$@"; do addrs+=" $(host_addr "$i")"; done
  awk -v drop="$addrs" 'BEGIN { n = split(drop, a, " "); for (k = 1; k <= n; k++) skip[a[k]] = 1 }
    NF && !($1 in skip)' "$KNOWN_HOSTS" >"$tmp"
  for i in "$@"; do
    for key in "$(host_dir "$i")"/root/etc/ssh/ssh_host_*_key.pub; do
      echo "$(host_addr "$i") $(cut -d' ' -f1,2 "$key")"
    done
  done >>"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" "$KNOWN_HOSTS"
  exec 8>&-
}

write_ssh_config() {
  local tmp i
  tmp=$(mktemp "$SSH_CONFIG.XXXXXX")
  {
    echo "# Written by test/fleet/fleet.sh: ssh -F $SSH_CONFIG hostI"
    for i in $(existing_hosts); do
      printf 'Host %s\n  HostName %s\n' "$(host_name "$i")" "$(host_addr "$i")"
    done
    cat <<EOF
Host *
  User root
  IdentityFile $KEY
  IdentitiesOnly yes
  UserKnownHostsFile $KNOWN_HOSTS
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
EOF
  } >"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" "$SSH_CONFIG"
}

# Waits until host I answers SSH and its boot has finished; fails on a degraded boot with the
# failed units and their logs.
wait_host() {
  local i=$1 deadline=$2 pid state rc dir
  dir=$(host_dir "$i")
  # Straight from the pid file: right after the start, the pid may still be the subshell that
  # is about to exec nspawn, which host_pid would not recognise.
  pid=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
  while true; do
    rc=0
    state=$(ssh_host $((deadline - SECONDS > 2 ? deadline - SECONDS : 2)) "$i" -o ConnectTimeout=1 -- \
      systemctl is-system-running --wait 2>/dev/null) || rc=$?
    ((rc == 255 || rc == 124)) || break # 255: no SSH yet; 124: timeout
    if [ -z "$pid" ] || ! alive "$pid"; then
      tail -n 40 "$dir/console.log" >&2 || true
      log "host$i: systemd-nspawn exited during boot (console: $dir/console.log)"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "host$i: not up on $(host_addr "$i"):22 after ${BOOT_TIMEOUT} s (console: $dir/console.log)"
      return 1
    fi
    sleep 0.1
  done
  case $state in
  running) return 0 ;;
  degraded)
    log "host$i is degraded; failed units:"
    # shellcheck disable=SC2016 # expanded on the host
    ssh_host 20 "$i" -- 'systemctl --failed --no-legend --plain; for u in $(systemctl --failed --no-legend --plain | cut -d" " -f1); do journalctl -b -u "$u" -n 15 --no-pager; done' >&2 || true
    return 1
    ;;
  *)
    log "host$i: boot did not finish: is-system-running says '${state:-nothing}'"
    return 1
    ;;
  esac
}

# Boots the given hosts (which must be down) in parallel and waits for all of them.
boot_hosts() {
  (($# > 0)) || return 0
  local i pids=() failed=0 deadline
  for i in "$@"; do
    prepare_host "$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  ((failed == 0)) || die 1 "could not prepare the hosts' disks"
  write_known_hosts "$@"
  write_ssh_config
  for i in "$@"; do start_host "$i"; done
  wait_hosts "$@"
}

wait_hosts() {
  local i pids=() failed=() deadline=$((SECONDS + BOOT_TIMEOUT)) n=0
  for i in "$@"; do
    wait_host "$i" "$deadline" &
    pids+=($!)
  done
  for i in "$@"; do
    wait "${pids[$n]}" || failed+=("host$i")
    n=$((n + 1))
  done
  ((${#failed[@]} == 0)) || die 1 "not up: ${failed[*]}"
}

# ---------------------------------------------------------------------------------------------
# Commands

take_lock() {
  mkdir -p "$HOSTS_DIR"
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "waiting for another fleet.sh to finish"
    flock -w 1800 9 || die 1 "gave up waiting for the lock $LOCK_FILE"
  fi
}

# Every host's systemd (and journald, udev, …) takes inotify instances from the same root user:
# the kernel's default of 128 runs out at about ten hosts, and hosts then boot degraded.
raise_kernel_limits() {
  local key want have
  for key in fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=1048576; do
    want=${key#*=}
    have=$(sysctl -n "${key%%=*}" 2>/dev/null || echo 0)
    if ((have < want)); then sysctl -qw "$key" || log "could not raise ${key%%=*} (hosts may boot degraded)"; fi
  done
}

cmd_up() {
  local n=${1:-} fresh=0 started i to_boot=() running=()
  [ "${2:-}" = --fresh ] && fresh=1
  [ -n "$n" ] || die 2 "usage: fleet.sh up N [--fresh]"
  check_index "$n"
  started=$(now)
  raise_kernel_limits
  build_images $(seq 1 "$n")
  ensure_client_key
  for ((i = 1; i <= n; i++)); do
    if ((!fresh)) && [ -n "$(host_pid "$i")" ] &&
      [ "$(cat "$(host_dir "$i")/image" 2>/dev/null)" = "$(host_image_id "$i")" ]; then
      running+=("$i")
    else
      to_boot+=("$i")
    fi
  done
  # Down, half up, from an older image, or to be wiped: bring it to a clean stop first.
  if ((fresh)); then
    stop_hosts --hard "${to_boot[@]}"
    for i in "${to_boot[@]}"; do wipe_host "$i"; done
  else
    stop_hosts "${to_boot[@]}"
  fi
  boot_hosts "${to_boot[@]}"
  wait_hosts "${running[@]}"
  log "$n host(s) up in $(since "$started") s (${#to_boot[@]} booted); ssh -F $SSH_CONFIG host1"
}

cmd_down() {
  local started hosts
  started=$(now)
  mapfile -t hosts < <(existing_hosts)
  stop_hosts "${hosts[@]}"
  log "all hosts down in $(since "$started") s"
}

cmd_reset() {
  (($# > 0)) || die 2 "usage: fleet.sh reset I [I...]"
  local i started
  for i in "$@"; do check_index "$i"; done
  started=$(now)
  build_images "$@"
  ensure_client_key
  stop_hosts --hard "$@"
  for i in "$@"; do wipe_host "$i"; done
  boot_hosts "$@"
  log "reset $* in $(since "$started") s"
}

cmd_reboot() {
  (($# > 0)) || die 2 "usage: fleet.sh reboot I [I...]"
  local i started
  for i in "$@"; do check_index "$i"; done
  started=$(now)
  build_images "$@"
  ensure_client_key
  stop_hosts "$@"
  boot_hosts "$@"
  log "rebooted $* in $(since "$started") s"
}

cmd_ssh() {
  local i=${1:-}
  [ -n "$i" ] || die 2 "usage: fleet.sh ssh I [CMD...]"
  check_index "$i"
  shift
  [ -f "$SSH_CONFIG" ] || die 1 "no fleet yet: run fleet.sh up N first"
  if (($# == 0)) && [ -t 0 ]; then exec ssh -F "$SSH_CONFIG" -t "$(host_name "$i")"; fi
  exec ssh -F "$SSH_CONFIG" "$(host_name "$i")" -- "$@"
}

cmd_status() {
  local i pid state suite image disk
  for suite in "${SUITES[@]}"; do
    image=$(image_dir "$suite")
    if [ -f "$image/.fleet-recipe" ]; then echo "image $suite $image"; else echo "image $suite (not built)"; fi
  done
  for i in $(existing_hosts); do
    pid=$(host_pid "$i")
    if [ -n "$pid" ]; then
      state=$(ssh_host 5 "$i" -o ConnectTimeout=2 -- systemctl is-system-running 2>/dev/null) || true
      state="up (${state:-no ssh}) pid $pid"
    elif is_mounted "$i"; then
      state='down (disk still mounted)'
    else
      state=down
    fi
    # The disk's image file: "SUITE BUILD", or the bare build id for bookworm.
    disk=$(cat "$(host_dir "$i")/image" 2>/dev/null || true)
    suite=bookworm
    [[ $disk == *' '* ]] && suite=${disk%% *}
    printf '%s\t%s\t%s\t%s\n' "$(host_name "$i")" "$(host_addr "$i")" "$suite" "$state"
  done
}

main() {
  local cmd=${1:-}
  (($# > 0)) && shift
  check_suites
  case $cmd in
  up | down | reset | reboot | image)
    require_linux_root
    ensure_tools
    take_lock
    case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    reset) cmd_reset "$@" ;;
    reboot) cmd_reboot "$@" ;;
    image)
      build_image "$DEFAULT_SUITE"
      image_dir "$DEFAULT_SUITE"
      ;;
    esac
    ;;
  ssh) cmd_ssh "$@" ;;
  status) cmd_status ;;
  paths) printf 'key=%s\nknownHosts=%s\nsshConfig=%s\n' "$KEY" "$KNOWN_HOSTS" "$SSH_CONFIG" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
