import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../exec/local-executor.js';
import type { TaskPlan } from '../../plan/types.js';
import { quote } from '../../exec/quote.js';
import { applyOps } from '../apply.js';
import { planOps } from '../encode-ops.js';

/**
 * The service account owns the directories hermes-fleet writes into as root, so it can swap a
 * name for a symbolic link at any moment (after the fact read, or right after mktemp). Root
 * must then never chown, chmod or write whatever the link points to.
 */
const isRoot = process.getuid?.() === 0;
const owner = { user: 'nobody', group: 'nogroup' };
const fileFact = {
  kind: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  user: 'root',
  group: 'root',
  mtimeMs: 0,
  size: 3,
} as const;

function victim(dir: string): string {
  const path = join(dir, 'victim');
  writeFileSync(path, 'root only');
  chmodSync(path, 0o600);
  return path;
}

function victimDir(dir: string): string {
  const path = join(dir, 'victim-dir');
  mkdirSync(path);
  chmodSync(path, 0o700);
  return path;
}

async function apply(plans: TaskPlan[], prefix = '') {
  return applyOps(localExecutor, planOps(plans), {
    commandLine: (script) => `${prefix}sh -c ${quote(script)}`,
    timeoutMs: 10_000,
    inSession: true,
  });
}

/**
 * The batch run by bash with a DEBUG trap that, right before the script opens a name on fd 5,
 * replaces that name (`$1` of the helper that opens it) with a symbolic link to `to`: the
 * service account winning the race between the script's checks and its open, every time.
 */
async function applyRaced(plans: TaskPlan[], to: string) {
  const trap = [
    'set -T',
    `trap 'case $BASH_COMMAND in "command exec 5"*) if [ -z "$swapped" ]; then swapped=1; rm -rf -- "$1"; ln -s -- ${quote(to)} "$1"; fi ;; esac' DEBUG`,
    '',
  ].join('\n');
  return applyOps(localExecutor, planOps(plans), {
    commandLine: (script) => `bash -c ${quote(trap + script)}`,
    timeoutMs: 10_000,
    inSession: true,
  });
}

const dirChange = (path: string) => ({
  kind: 'dir' as const,
  path,
  attrs: { mode: 0o750, ...owner },
  before: { ...fileFact, kind: 'dir' as const, mode: 0o700 },
});

describe.skipIf(!isRoot)('apply never follows a link swapped in by the service account', () => {
  it('attrs: a file replaced by a symlink since the read is refused, its target untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const target = victim(dir);
    const managed = join(dir, 'config.yaml');
    symlinkSync(target, managed);
    const outcome = await apply([
      {
        task: 'merge',
        changes: [
          {
            kind: 'attrs',
            path: managed,
            attrs: { mode: 0o644, ...owner },
            before: { ...fileFact, ...owner },
          },
        ],
      },
    ]);
    expect(outcome.failure?.message).toMatch(/symbolic link|not a regular file/);
    const st = lstatSync(target);
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.uid).toBe(0);
  });

  it('write: a temp file swapped for a symlink after mktemp is refused, its target untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const target = victim(dir);
    // A mktemp that loses the race on purpose: it makes the file, then the "attacker" replaces
    // it with a link to the victim before the batch touches it again.
    const bin = mkdtempSync(join(tmpdir(), 'swap-bin-'));
    writeFileSync(
      join(bin, 'mktemp'),
      `#!/bin/sh\nf=$(/usr/bin/mktemp "$@") || exit 1\nrm -f "$f"\nln -s ${quote(target)} "$f"\necho "$f"\n`,
    );
    chmodSync(join(bin, 'mktemp'), 0o755);
    const outcome = await apply(
      [
        {
          task: 'merge',
          changes: [
            {
              kind: 'file',
              path: join(dir, 'config.yaml'),
              body: { text: 'attacker sees this in the victim\n' },
              attrs: { mode: 0o644, ...owner },
              before: { kind: 'absent' },
            },
          ],
        },
      ],
      `PATH=${quote(bin)}:$PATH `,
    );
    expect(outcome.failure?.message).toMatch(/changed under|not the file/);
    const st = lstatSync(target);
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.uid).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('root only');
    expect(readdirSync(dir).filter((n) => n.startsWith('.hermes-fleet'))).toEqual([]);
  });

  it('dir: a directory replaced by a symlink since the read is refused, its target untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const target = victimDir(dir);
    const managed = join(dir, '.hermes');
    symlinkSync(target, managed);
    const outcome = await apply([{ task: 'dirs', changes: [dirChange(managed)] }]);
    expect(outcome.failure?.message).toMatch(/changed under/);
    const st = lstatSync(target);
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.uid).toBe(0);
  });

  it('dir: a directory swapped for a symlink between the check and the open is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const target = victimDir(dir);
    const managed = join(dir, '.hermes');
    mkdirSync(managed);
    const outcome = await applyRaced([{ task: 'dirs', changes: [dirChange(managed)] }], target);
    expect(outcome.failure?.message).toMatch(/changed under/);
    const st = lstatSync(target);
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.uid).toBe(0);
  });

  it('dir: a new directory swapped for a symlink right after mkdir is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const target = victimDir(dir);
    const bin = mkdtempSync(join(tmpdir(), 'swap-bin-'));
    writeFileSync(
      join(bin, 'mkdir'),
      `#!/bin/sh\n/bin/mkdir "$@" || exit 1\nfor last; do :; done\nrmdir "$last"\nln -s ${quote(target)} "$last"\n`,
    );
    chmodSync(join(bin, 'mkdir'), 0o755);
    const managed = join(dir, 'workspace');
    const outcome = await apply(
      [{ task: 'dirs', changes: [{ ...dirChange(managed), before: { kind: 'absent' } }] }],
      `PATH=${quote(bin)}:$PATH `,
    );
    expect(outcome.failure?.message).toMatch(/changed under/);
    const st = lstatSync(target);
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.uid).toBe(0);
  });

  it('dir: creates missing parents and the directory itself, owned and moded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const managed = join(dir, 'a', 'b', 'work');
    const outcome = await apply([
      { task: 'dirs', changes: [{ ...dirChange(managed), before: { kind: 'absent' } }] },
    ]);
    expect(outcome.failure).toBeUndefined();
    const st = lstatSync(managed);
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o750);
    expect(st.uid).not.toBe(0);
    expect(existsSync(join(dir, 'a', 'b'))).toBe(true);
  });

  it('attrs: a file swapped for a dangling link before the open creates nothing', async () => {
    // A dangling link to /etc/nologin would have root create that file and lock logins out.
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const managed = join(dir, 'config.yaml');
    writeFileSync(managed, 'x');
    const created = join(dir, 'nologin');
    const outcome = await applyRaced(
      [
        {
          task: 'merge',
          changes: [
            {
              kind: 'attrs',
              path: managed,
              attrs: { mode: 0o644, ...owner },
              before: { ...fileFact, ...owner },
            },
          ],
        },
      ],
      created,
    );
    expect(outcome.failure?.message).toMatch(/cannot open|changed under/);
    expect(existsSync(created)).toBe(false);
  });

  it('write: a temp file swapped for a dangling link before the open creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swap-'));
    const created = join(dir, 'nologin');
    const outcome = await applyRaced(
      [
        {
          task: 'merge',
          changes: [
            {
              kind: 'file',
              path: join(dir, 'config.yaml'),
              body: { text: 'content\n' },
              attrs: { mode: 0o644, ...owner },
              before: { kind: 'absent' },
            },
          ],
        },
      ],
      created,
    );
    expect(outcome.failure?.message).toMatch(/cannot open|changed under/);
    expect(existsSync(created)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.hermes-fleet'))).toEqual([]);
  });
});
