import { partsBytes } from '../../test/utils/stdin.js';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { applyOps, detachedInput } from './apply.js';
import { inspectArchive } from '../inventory/release-archive.js';
import type { ReleaseArchive } from '../inventory/types.js';
import DETACH_SH from './detach.sh';
import { planOps, type Op } from './encode-ops.js';

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
    const whole = partsBytes(await detachedInput(MARKERS));
    const result = await localExecutor.exec(
      `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(DETACH_SH)}`,
      { stdin: whole.subarray(0, whole.length - 3), timeoutMs: 10_000 },
    );
    expect(result.exitCode).toBe(125);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toContain('did not arrive whole: nothing was applied');
    expect(readdirSync(spool).filter((n) => n !== 'apply.sh')).toEqual([]);
  });

  describe.skipIf(process.getuid?.() !== 0)('a release upload, unpacked as it arrives', () => {
    async function release(): Promise<{ archive: ReleaseArchive; root: string; spool: string }> {
      const dir = mkdtempSync(join(tmpdir(), 'detach-release-'));
      mkdirSync(join(dir, 'src', 'hermes-agent', 'bin'), { recursive: true });
      writeFileSync(join(dir, 'src', 'hermes-agent', 'bin', 'hermes'), '#!/bin/sh\n');
      chmodSync(join(dir, 'src', 'hermes-agent', 'bin', 'hermes'), 0o755);
      writeFileSync(join(dir, 'src', 'hermes-agent', 'padding'), Buffer.alloc(300_000, 7));
      execFileSync('tar', ['-cf', join(dir, 'r.tar'), '-C', join(dir, 'src'), 'hermes-agent']);
      const archive = await inspectArchive(join(dir, 'r.tar'), 'r.tar');
      return { archive, root: join(dir, 'opt'), spool: join(dir, 'spool') };
    }
    const ops = (archive: ReleaseArchive, root: string) =>
      planOps([
        {
          task: 'release',
          changes: [
            { kind: 'release-unpack', path: `${root}/releases/${archive.id}`, archive },
            {
              kind: 'release-switch',
              path: `${root}/current`,
              target: `releases/${archive.id}`,
              before: { kind: 'absent' },
              to: archive.id,
            },
          ],
        },
      ]);
    const spoolLeft = (spool: string) => readdirSync(spool).filter((n) => n !== 'apply.sh');

    it('the batch finds it unpacked, renames it, and removes the stage', async () => {
      const { archive, root, spool } = await release();
      const input = await detachedInput(ops(archive, root));
      // The operation carries no byte of it: the upload follows the operations, after its line.
      expect(partsBytes(input.slice(0, 1)).toString()).toMatch(/ stage=1\n$/);
      const outcome = await applyOps(localExecutor, ops(archive, root), {
        commandLine: (script) => `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(script)}`,
        timeoutMs: 20_000,
      });
      expect(outcome.failure).toBeUndefined();
      expect(outcome.incomplete).toBeUndefined();
      expect(readlinkSync(join(root, 'current'))).toBe(`releases/${archive.id}`);
      expect(readdirSync(join(root, 'releases'))).toEqual([archive.id]);
      expect(spoolLeft(spool)).toEqual([]);
    });

    it('cut off inside the upload: nothing starts, nothing is left', async () => {
      const { archive, root, spool } = await release();
      const whole = partsBytes(await detachedInput(ops(archive, root)));
      const result = await localExecutor.exec(
        `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(DETACH_SH)}`,
        { stdin: whole.subarray(0, whole.length - 1000), timeoutMs: 20_000 },
      );
      expect(result.exitCode).toBe(125);
      expect(result.stdout.toString()).toBe('');
      expect(result.stderr.toString()).toContain('did not arrive whole: nothing was applied');
      expect(spoolLeft(spool)).toEqual([]);
      expect(() => readdirSync(join(root, 'releases'))).toThrow();
    });

    it('more bytes than announced after the last upload: nothing starts', async () => {
      // The last upload is read to the end of stdin (no head -c): the count is what says that
      // exactly the announced bytes came.
      const { archive, root, spool } = await release();
      const whole = partsBytes(await detachedInput(ops(archive, root)));
      const result = await localExecutor.exec(
        `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(DETACH_SH)}`,
        { stdin: Buffer.concat([whole, Buffer.from('trailing')]), timeoutMs: 20_000 },
      );
      expect(result.exitCode).toBe(125);
      expect(result.stderr.toString()).toContain('did not arrive whole: nothing was applied');
      expect(spoolLeft(spool)).toEqual([]);
      expect(() => readdirSync(join(root, 'releases'))).toThrow();
    });

    it('arrived whole but corrupted: the batch runs, its operation refuses it', async () => {
      const { archive, root, spool } = await release();
      const good = readFileSync(archive.path);
      const bad = Buffer.from(good);
      bad[100] = (bad[100] ?? 0) ^ 0xff;
      const corrupted: ReleaseArchive = { ...archive, bytes: () => Promise.resolve(bad) };
      const outcome = await applyOps(localExecutor, ops(corrupted, root), {
        commandLine: (script) => `HERMES_FLEET_SPOOL=${quote(spool)} sh -c ${quote(script)}`,
        timeoutMs: 20_000,
      });
      expect(outcome.failure?.message).toMatch(/arrived incomplete or corrupted/);
      expect(readdirSync(join(root, 'releases'))).toEqual([]);
      expect(spoolLeft(spool)).toEqual([]);
    });
  });
});
