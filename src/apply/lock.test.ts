import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { gatherFacts } from '../facts/gather.js';
import type { TaskPlan } from '../plan/types.js';
import { lockOp } from '../runner/host-lock.js';
import { applyOps } from './apply.js';
import { planOps, type Op } from './encode-ops.js';
import { unlockHost } from './unlock.js';

const sh = (script: string) => `sh -c ${quote(script)}`;
const who = { who: 'alice@laptop', command: 'run', waitSeconds: 0 };
const held: ChildProcess[] = [];

afterEach(() => {
  for (const child of held.splice(0)) child.kill('SIGKILL');
});

/** A batch whose lock is at `lockPath` and which then writes one file. */
function batch(
  dir: string,
  lockPath: string,
  options: { serial?: string; waitSeconds?: number } = {},
) {
  const plans: TaskPlan[] = [
    {
      task: 'docs',
      changes: [
        {
          kind: 'file',
          path: join(dir, 'SOUL.md'),
          body: { text: 'soul' },
          attrs: {
            mode: 0o640,
            user: String(process.getuid?.() ?? 0),
            group: String(process.getgid?.() ?? 0),
          },
          before: { kind: 'absent' },
        },
      ],
    },
  ];
  const op: Op = lockOp('docs', who, { waitSeconds: options.waitSeconds ?? 0, ...options });
  return [{ ...op, fields: { ...op.fields, path: lockPath } }, ...planOps(plans)];
}

function run(ops: Op[]) {
  return applyOps(localExecutor, ops, { commandLine: sh, timeoutMs: 20_000, inSession: true });
}

/** A process that holds the lock (as a batch does) until killed; its file names it. */
async function holdLock(lockPath: string, lines: string): Promise<ChildProcess> {
  const script = `exec 9<>"$1" && flock -x 9 && printf '%s\\nbatch=%s\\nboot=%s\\n' "$2" "$$" "$(cat /proc/sys/kernel/random/boot_id)" >"$1" && echo held && trap 'exit 0' INT && while :; do sleep 0.05; done`;
  const child = spawn('/bin/sh', ['-c', script, 'holder', lockPath, lines], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  held.push(child);
  await new Promise<void>((resolve) => {
    child.stdout.once('data', () => {
      resolve();
    });
  });
  return child;
}

describe('the lock operation (run by a real local shell)', () => {
  it('takes the lock, names the holder while the batch runs, and clears it at the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'state', 'lock');
    const outcome = await run(batch(dir, lockPath));
    expect(outcome.failure).toBeUndefined();
    expect(outcome.done).toBe(3);
    expect(outcome.lock?.taken).toMatch(
      /^who=alice@laptop\ncommand=hermes-fleet run\npid=\d+\nbatch=\d+\nsince=\S+Z\nepoch=\d+\nboot=/,
    );
    expect(readFileSync(lockPath, 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'state', 'serial'), 'utf8')).toBe('1\n');
    expect(readFileSync(join(dir, 'SOUL.md'), 'utf8')).toBe('soul');
  });

  it('refuses a host another batch holds, naming it, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    await holdLock(lockPath, 'who=bob@ci\ncommand=hermes-fleet run');
    const outcome = await run(batch(dir, lockPath));
    expect(outcome.lock?.busy).toMatch(
      /^who=bob@ci\ncommand=hermes-fleet run\nbatch=\d+\nboot=\S+\n$/,
    );
    expect(outcome.failure?.index).toBe(0);
    expect(outcome.done).toBe(0);
    expect(() => readFileSync(join(dir, 'SOUL.md'))).toThrow();
  });

  it('waits for the holder with seconds to wait, then goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    const holder = await holdLock(lockPath, 'who=bob@ci');
    setTimeout(() => holder.kill('SIGINT'), 2500);
    const outcome = await run(batch(dir, lockPath, { waitSeconds: 10 }));
    expect(outcome.failure).toBeUndefined();
    expect(readFileSync(join(dir, 'SOUL.md'), 'utf8')).toBe('soul');
  });

  it('takes over a lock whose holder is gone, and says whose it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    writeFileSync(
      lockPath,
      'who=gone@host\ncommand=hermes-fleet run\nbatch=999999\nboot=old-boot\n',
    );
    const outcome = await run(batch(dir, lockPath));
    expect(outcome.failure).toBeUndefined();
    expect(outcome.lock?.tookOver?.holder).toContain('who=gone@host');
    expect(outcome.lock?.tookOver?.bootId).not.toBe('');
    expect(readFileSync(lockPath, 'utf8')).toBe('');
  });

  it('changes nothing when another batch ran since the read (the serial moved)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    writeFileSync(join(dir, 'serial'), '5\n');
    const outcome = await run(batch(dir, lockPath, { serial: '4' }));
    expect(outcome.lock?.moved).toBe('5');
    expect(outcome.done).toBe(0);
    expect(() => readFileSync(join(dir, 'SOUL.md'))).toThrow();
    expect(readFileSync(join(dir, 'serial'), 'utf8')).toBe('5\n');
    const next = await run(batch(dir, lockPath, { serial: '5' }));
    expect(next.failure).toBeUndefined();
    expect(readFileSync(join(dir, 'serial'), 'utf8')).toBe('6\n');
  });
});

describe('the lock fact (read.sh, by a real local shell)', () => {
  const read = (lockPath: string, waitSeconds?: number) =>
    gatherFacts(
      localExecutor,
      [{ kind: 'lock', path: lockPath, ...(waitSeconds ? { waitSeconds } : {}) }],
      { commandLine: sh },
    ).then((facts) => facts.locks?.get(lockPath));

  it('is free without a lock file, held while a batch holds it, stale when its holder is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    expect(await read(lockPath)).toMatchObject({ state: 'free', serial: '0' });
    writeFileSync(join(dir, 'serial'), '7\n');
    const holder = await holdLock(lockPath, 'who=bob@ci');
    expect(await read(lockPath)).toMatchObject({
      state: 'held',
      serial: '7',
      holder: { who: 'bob@ci' },
    });
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    // Its `sleep` child holds fd 9, so the lock, until it ends too: as a batch's children do.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await read(lockPath)).toMatchObject({ state: 'stale', holder: { who: 'bob@ci' } });
    writeFileSync(lockPath, '');
    expect(await read(lockPath)).toMatchObject({ state: 'free', serial: '7' });
  });

  it('waits for the holder when asked to', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    const holder = await holdLock(lockPath, 'who=bob@ci');
    setTimeout(() => holder.kill('SIGINT'), 1500);
    const started = Date.now();
    const fact = await read(lockPath, 10);
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(fact?.state).not.toBe('held');
  });
});

describe('unlock.sh (by a real local shell)', () => {
  const unlock = (lockPath: string, waitSeconds = 5) =>
    unlockHost(localExecutor, { path: lockPath, waitSeconds, commandLine: sh });

  it('says free, clears a holder that is gone, and interrupts one that holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    expect(await unlock(lockPath)).toEqual({ state: 'free', holder: '' });
    writeFileSync(lockPath, 'who=gone@host\n');
    expect(await unlock(lockPath)).toEqual({ state: 'cleared', holder: 'who=gone@host\n' });
    expect(readFileSync(lockPath, 'utf8')).toBe('');
    const holder = await holdLock(lockPath, 'who=bob@ci');
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    const outcome = await unlock(lockPath);
    expect(outcome.state).toBe('stopped');
    expect(outcome.holder).toContain('who=bob@ci');
    await exited;
  });

  it('says held when the holder does not let go in time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const lockPath = join(dir, 'lock');
    // No batch= line: nobody to interrupt.
    const child = spawn('flock', ['-x', lockPath, 'sleep', '30'], { stdio: 'ignore' });
    held.push(child);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await unlock(lockPath, 1)).state).toBe('held');
  });
});
