import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  statSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../exec/local-executor.js';
import { quote } from '../../exec/quote.js';
import { inspectArchive } from '../../inventory/release-archive.js';
import type { ReleaseArchive } from '../../inventory/types.js';
import type { Change } from '../../plan/types.js';
import { applyOps } from '../apply.js';
import { planOps } from '../encode-ops.js';

const sh = (script: string) => `sh -c ${quote(script)}`;
const isRoot = process.getuid?.() === 0;

/** A release tree packed as a .tar.gz under one top-level directory, with hostile modes. */
async function packRelease(padding = 0): Promise<{ archive: ReleaseArchive; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'release-ops-'));
  const top = join(dir, 'src', 'hermes-agent-1.0');
  mkdirSync(join(top, 'bin'), { recursive: true });
  mkdirSync(join(top, 'lib'));
  writeFileSync(join(top, 'bin', 'hermes'), '#!/bin/sh\necho 1.0\n');
  chmodSync(join(top, 'bin', 'hermes'), 0o4777);
  writeFileSync(join(top, 'lib', 'open.py'), 'x = 1\n');
  chmodSync(join(top, 'lib', 'open.py'), 0o666);
  chmodSync(join(top, 'lib'), 0o777);
  if (padding > 0) writeFileSync(join(top, 'lib', 'padding.bin'), randomBytes(padding));
  const file = join(dir, 'r.tar.gz');
  execFileSync('tar', [
    '--gzip',
    '--owner=1234',
    '--group=1234',
    '-cf',
    file,
    '-C',
    join(dir, 'src'),
    'hermes-agent-1.0',
  ]);
  return { archive: await inspectArchive(file, 'r.tar.gz'), dir };
}

function unpack(root: string, archive: ReleaseArchive): Change[] {
  return [
    { kind: 'release-unpack', path: `${root}/releases/${archive.id}`, archive },
    {
      kind: 'release-switch',
      path: `${root}/current`,
      target: `releases/${archive.id}`,
      before: { kind: 'absent' },
      to: archive.id,
    },
  ];
}

describe('release operations (a real local shell and tar)', () => {
  it.skipIf(!isRoot)(
    'unpacks root-owned with no group/other write or setuid, strips the top directory, switches current',
    async () => {
      const { archive, dir } = await packRelease();
      const root = join(dir, 'opt');
      const outcome = await applyOps(
        localExecutor,
        planOps([{ task: 'release', changes: unpack(root, archive) }]),
        {
          commandLine: sh,
          timeoutMs: 30_000,
        },
      );
      expect(outcome.failure).toBeUndefined();
      const release = join(root, 'releases', archive.id);
      const bin = statSync(join(release, 'bin', 'hermes'));
      expect([bin.uid, bin.gid, bin.mode & 0o7777]).toEqual([0, 0, 0o755]);
      const lib = statSync(join(release, 'lib'));
      expect([lib.uid, lib.mode & 0o7777]).toEqual([0, 0o755]);
      expect(statSync(join(release, 'lib', 'open.py')).mode & 0o777).toBe(0o644);
      expect(statSync(release).mode & 0o777).toBe(0o755);
      expect(readlinkSync(join(root, 'current'))).toBe(`releases/${archive.id}`);
      expect(readdirSync(join(root, 'releases'))).toEqual([archive.id]);
    },
  );

  it.skipIf(!isRoot)(
    'a corrupted upload never gets the final name, and leaves no temporary directory',
    async () => {
      const { archive, dir } = await packRelease();
      const root = join(dir, 'opt');
      const good = readFileSync(archive.path);
      const corrupted = Buffer.from(good);
      corrupted[corrupted.length - 10] = (corrupted[corrupted.length - 10] ?? 0) ^ 0xff;
      const bad: ReleaseArchive = { ...archive, bytes: () => Promise.resolve(corrupted) };
      const outcome = await applyOps(
        localExecutor,
        planOps([{ task: 'release', changes: unpack(root, bad) }]),
        {
          commandLine: sh,
          timeoutMs: 30_000,
        },
      );
      expect(outcome.failure?.message).toMatch(/arrived incomplete or corrupted/);
      expect(readdirSync(join(root, 'releases'))).toEqual([]);
      expect(() => lstatSync(join(root, 'current'))).toThrow();
    },
  );

  it.skipIf(!isRoot)(
    "a full disk fails with the host's own error, leaving no release and no temporary directory",
    async () => {
      const { archive, dir } = await packRelease(256 * 1024);
      const root = join(dir, 'small');
      mkdirSync(root);
      // A 64 KiB file system; the release unpacks to more than 256 KiB.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', root]);
      try {
        const outcome = await applyOps(
          localExecutor,
          planOps([{ task: 'release', changes: unpack(root, archive) }]),
          { commandLine: sh, timeoutMs: 30_000 },
        );
        expect(outcome.failure?.message).toMatch(/No space left on device/);
        expect(readdirSync(join(root, 'releases'))).toEqual([]);
      } finally {
        execFileSync('umount', [root]);
      }
    },
  );

  it.skipIf(!isRoot)('a truncated upload never gets the final name', async () => {
    const { archive, dir } = await packRelease();
    const root = join(dir, 'opt');
    const good = readFileSync(archive.path);
    const short: ReleaseArchive = {
      ...archive,
      bytes: () => Promise.resolve(good.subarray(0, good.length - 100)),
    };
    const outcome = await applyOps(
      localExecutor,
      planOps([{ task: 'release', changes: unpack(root, short) }]),
      {
        commandLine: sh,
        timeoutMs: 30_000,
      },
    );
    expect(outcome.failure?.message ?? outcome.incomplete).toBeDefined();
    // Detached (detach.sh), a batch whose upload arrived short never starts: not even releases/.
    expect(existsSync(join(root, 'releases')) ? readdirSync(join(root, 'releases')) : []).toEqual(
      [],
    );
  });

  it.skipIf(!isRoot)(
    'release-remove removes a release directory whole, and nothing else',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'release-ops-'));
      mkdirSync(join(dir, 'releases', 'aaaaaaaaaaaaaaaa', 'bin'), { recursive: true });
      mkdirSync(join(dir, 'releases', 'notours'));
      writeFileSync(join(dir, 'releases', 'aaaaaaaaaaaaaaaa', 'bin', 'hermes'), '');
      const remove = (name: string): Change => ({
        kind: 'release-remove',
        path: join(dir, 'releases', name),
        why: 'test',
      });
      const ok = await applyOps(
        localExecutor,
        planOps([{ task: 'release', changes: [remove('aaaaaaaaaaaaaaaa')] }]),
        {
          commandLine: sh,
          timeoutMs: 10_000,
        },
      );
      expect(ok.failure).toBeUndefined();
      const refused = await applyOps(
        localExecutor,
        planOps([{ task: 'release', changes: [remove('notours')] }]),
        {
          commandLine: sh,
          timeoutMs: 10_000,
        },
      );
      expect(refused.failure?.message).toMatch(/not a release directory/);
      expect(readdirSync(join(dir, 'releases'))).toEqual(['notours']);
    },
  );
});
