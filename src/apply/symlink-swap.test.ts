import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import type { TaskPlan } from '../plan/types.js';
import { quote } from '../transport/quote.js';
import { applyOps } from './apply.js';
import { planOps } from './encode-ops.js';

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

async function apply(plans: TaskPlan[], prefix = '') {
  return applyOps(localExecutor, planOps(plans), {
    commandLine: (script) => `${prefix}sh -c ${quote(script)}`,
    timeoutMs: 10_000,
  });
}

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
});
