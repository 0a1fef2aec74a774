import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { applyOps, detachedInput } from './apply.js';
import DETACH_SH from './detach.sh';
import type { Op } from './encode-ops.js';

const MARKERS: Op[] = [
  { task: 'users', name: 'task', fields: { name: 'users' } },
  { task: 'dirs', name: 'task', fields: { name: 'dirs' } },
];

describe('detach.sh: the batch spooled, then run detached from the session', () => {
  it('streams the batch back and leaves nothing behind when the session lasts', async () => {
    const spool = mkdtempSync(join(tmpdir(), 'spool-'));
    const done: number[] = [];
    const outcome = await applyOps(localExecutor, MARKERS, {
      commandLine: (script) => `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(script)}`,
      timeoutMs: 10_000,
      onOpDone: (i) => done.push(i),
    });
    expect(outcome.failure).toBeUndefined();
    expect(outcome.incomplete).toBeUndefined();
    expect(done).toEqual([0, 1]);
    expect(readdirSync(spool).filter((n) => n !== 'apply.sh')).toEqual([]);
  });

  it('never starts a batch that did not arrive whole', async () => {
    const spool = mkdtempSync(join(tmpdir(), 'spool-'));
    const whole = Buffer.concat(await detachedInput(MARKERS));
    const result = await localExecutor.exec(
      `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(DETACH_SH)}`,
      { stdin: whole.subarray(0, whole.length - 3), timeoutMs: 10_000 },
    );
    expect(result.exitCode).toBe(125);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toContain('did not arrive whole: nothing was applied');
    expect(readdirSync(spool).filter((n) => n !== 'apply.sh')).toEqual([]);
  });
});
