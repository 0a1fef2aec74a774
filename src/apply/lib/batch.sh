# shellcheck shell=sh
# lib/batch.sh, the first part of apply.sh (src/apply/program.ts joins the parts in order): the
# program's contract, its state (the index in flight, the interrupt, the temporary file, the
# journal's name) and its exits. Offers the others: fail MESSAGE (says the failure, rolls back
# first when the restart failed, exits), say_fail, run CMD... (a command that must succeed), and
# the `task` operation (the interrupt's boundary).
#
# The host side of the batched apply: one constant POSIX sh program that carries out a host's
# whole plan in one round trip (src/apply/apply.ts sends it; encode-ops.ts writes its input).
#
# Input, on stdin: one header line per operation, `INDEX<TAB>OP<TAB>name=value<TAB>...`, named
# fields in any order. An operation with `size=N` is followed by exactly N bytes of body (a
# file's content), read with `head -c`, which never reads past them: content never touches a
# command line or a here-document. OP is the kind of the plan's change (src/changes).
#
# Output, on stdout: `INDEX<TAB>ok` after each operation, or `INDEX<TAB>fail<TAB>BASE64` and exit
# 1: the first failure stops the host, and everything before it stays applied whole. `end` when
# all went through, `interrupted` when SIGINT (Ctrl-C on the control machine, sent as an SSH
# signal) stopped the batch at the next task boundary (`task` lines); the operation in flight
# always finishes. Hang-up and termination remove the temporary file and exit at once.
#
# Who acts: an operation with `as=USER` runs as that account, in a child of this program
# started with setpriv (this program's own text is $1, so the child is the same code). The
# service account owns its tree (stateDir, HERMES_HOME, workingDirectory) and can swap any name
# in it for a link at any moment; what it would gain by making root follow one is nothing when
# root never acts there. Root acts only in trees root owns, and on the few names it must
# (creating stateDir, handing a directory over): those carry `tree=TOP`, and root then works
# inside the parent directory, entered once and checked to be that very directory (pin), on an
# fd checked to be the inode the name holds (open5).
#
# Files are written atomically: mktemp beside the target (mode 0600 from birth), owner and final
# mode set while still empty, content written, size checked, fsync'd, renamed over the target.
#
# Rollback: an operation with `undo=path` first keeps what is at its path now (save_before), by
# the same actor, and root's journal (in /run) gets the operation that puts it back; `undo=repeat`
# journals the operation itself (a container removed again, so the restored definition recreates
# it). When an operation with `rollback=1` (the restart and its health check) fails, the batch
# stops the unit, replays the journal newest first, reloads systemd, starts the unit and checks
# its health again, and says `rollback<TAB>ok` or `rollback<TAB>fail<TAB>BASE64` before the
# failure line. A batch that ends otherwise removes what it kept (discard).
export LC_ALL=C
T=$(printf '\t')
SELF=${1-}
NL='
'
tmp=
i=-
stop=
# Root's list of undo operations of this batch (`OP<TAB>fields`), and set while the rollback
# replays it (nothing is journalled then).
journal=
undoing=
# The lock file this batch holds (op_lock in ops/lock.sh), cleared when it ends.
lock_path=
# Root's directory of the release uploads detach.sh unpacked as they arrived (op_release_unpack
# with staged=1 takes them from there), removed when the batch ends; never the account's
# children's to know.
stage=${HERMES_FLEET_STAGE-}
unset HERMES_FLEET_STAGE
# -r: a release's temporary directory too (always a name mktemp made, in the pinned directory).
cleanup() {
  if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi
  if [ -n "$stage" ]; then
    rm -rf -- "$stage"
    stage=
  fi
  if [ -n "$journal" ]; then
    discard_all
    rm -f -- "$journal"
  fi
  # The batch is ending, however it ends: it no longer holds the lock (the kernel lets go of the
  # flock with fd 9), so the file no longer names it.
  if [ -n "$lock_path" ]; then
    : >"$lock_path"
    lock_path=
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 129' TERM HUP PIPE
trap 'stop=1' INT
# A child's failure is reported by the child; 3 tells its parent so.
failed=1
say_fail() { printf '%s\tfail\t%s\n' "$i" "$(printf '%s' "$1" | base64 -w0)"; }
fail() {
  # The restart or its health check failed: back to the state before this run first.
  if [ "$rollback" = 1 ] && [ -n "$journal" ] && [ -z "$undoing" ] && [ "$failed" = 1 ]; then
    roll_back
  fi
  say_fail "$1"
  exit "$failed"
}
# Without fd 9 (the host's lock, ops/lock.sh): nothing the batch starts holds or reaches it.
run() { o=$("$@" 2>&1 </dev/null 9>&-) || fail "$* failed: $o"; }

# The fields an operation line may name: parse (src/exec/line-field.sh) sets each, after
# fields_empty, and refuses any other. The two lists are the same (scripts/lint-sh.mjs checks).
FIELDS='action as backend check format from group home image instance keep mode name path rollback'
FIELDS="$FIELDS seconds serial sha256 shell size staged strip target tree undo unit url user was"
fields_empty() {
  action='' as='' backend='' check='' format='' from='' group='' home='' image='' instance=''
  keep='' mode='' name='' path='' rollback='' seconds='' serial='' sha256='' shell='' size=''
  staged='' strip='' target='' tree='' undo='' unit='' url='' user='' was=''
}
WHAT=operation

# The instance whose changes the journal holds (`instances:`; empty for `hermes:` alone).
segment=
# A task boundary: after an interrupt, the batch stops here. The first task of another instance
# ends the one before: its changes passed their health check (or asked for none) and stay, so
# what the journal kept of them goes, and a later failure puts back the new instance's alone.
op_task() {
  if [ -n "$stop" ]; then
    printf 'interrupted\n'
    exit 0
  fi
  if [ "$instance" != "$segment" ]; then
    if [ -n "$journal" ]; then
      discard_all
      rm -f -- "$journal"
      journal=
    fi
    segment=$instance
  fi
}
