import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArchiveProblem,
  archiveFormat,
  findHermes,
  inspectArchive,
  parseListing,
} from './release-archive.js';

const member = (modeLetters: string, name: string) => ({ modeLetters, name });

describe('findHermes', () => {
  it('finds bin/hermes at the top, with or without ./', () => {
    expect(findHermes([member('-rwxr-xr-x', 'bin/hermes')])).toEqual({ strip: 0 });
    expect(findHermes([member('drwxr-xr-x', './'), member('-rwxr-xr-x', './bin/hermes')])).toEqual({
      strip: 1,
    });
  });

  it('strips the one top-level directory, ./ counted as tar counts it', () => {
    const under = (prefix: string) => [
      member('drwxr-xr-x', `${prefix}hermes-agent-0.21.3/`),
      member('-rwxr-xr-x', `${prefix}hermes-agent-0.21.3/bin/hermes`),
      member('-rw-r--r--', `${prefix}hermes-agent-0.21.3/lib/x.py`),
    ];
    expect(findHermes(under(''))).toEqual({ strip: 1 });
    expect(findHermes(under('./'))).toEqual({ strip: 2 });
  });

  it('refuses two top-level directories, a missing or non-executable bin/hermes', () => {
    expect(() =>
      findHermes([member('-rwxr-xr-x', 'a/bin/hermes'), member('-rw-r--r--', 'b/x')]),
    ).toThrow(ArchiveProblem);
    expect(() => findHermes([member('-rwxr-xr-x', 'bin/other')])).toThrow(/no bin\/hermes/);
    expect(() => findHermes([member('-rw-r--r--', 'bin/hermes')])).toThrow(/not executable/);
    expect(() => findHermes([member('drwxr-xr-x', 'bin/hermes/')])).toThrow(/directory/);
  });

  it('accepts a link (checked on the host once unpacked)', () => {
    expect(findHermes([member('lrwxrwxrwx', 'bin/hermes')])).toEqual({ strip: 0 });
  });
});

describe('parseListing', () => {
  it('reads GNU tar -tv lines, link targets cut off, names with spaces kept', () => {
    const listing = [
      'drwxr-xr-x root/root         0 2026-12-03 19:01 ./top/',
      '-rwxr-xr-x root/root        18 2026-12-03 19:01 ./top/bin/hermes',
      'lrwxrwxrwx root/root         0 2026-12-03 19:01 ./top/bin/python -> python3.11',
      '-rw-r--r-- 1000/1000         3 2026-12-03 19:01:05 ./top/a b.txt',
      '',
    ].join('\n');
    expect(parseListing(listing).map((m) => m.name)).toEqual([
      './top/',
      './top/bin/hermes',
      './top/bin/python',
      './top/a b.txt',
    ]);
  });
});

describe('archiveFormat', () => {
  it('knows the four formats by their ending', () => {
    expect(
      ['a.tar', 'a.tar.gz', 'a.tgz', 'a.tar.xz', 'a.tar.zst', 'a.zip'].map(archiveFormat),
    ).toEqual(['tar', 'gzip', 'gzip', 'xz', 'zstd', undefined]);
  });
});

/** A built tree with an executable bin/hermes, packed by the machine's tar. */
function packTree(flag: string | undefined, name: string, top = 'hermes-agent'): string {
  const dir = mkdtempSync(join(tmpdir(), 'release-'));
  mkdirSync(join(dir, 'src', top, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'src', top, 'bin', 'hermes'), '#!/bin/sh\necho hermes\n');
  chmodSync(join(dir, 'src', top, 'bin', 'hermes'), 0o755);
  const file = join(dir, name);
  execFileSync('tar', [...(flag ? [flag] : []), '-cf', file, '-C', join(dir, 'src'), top]);
  return file;
}

describe('inspectArchive (the machine tar)', () => {
  it.each([
    [undefined, 'r.tar'],
    ['--gzip', 'r.tar.gz'],
    ['--gzip', 'r.tgz'],
    ['--xz', 'r.tar.xz'],
    ['--zstd', 'r.tar.zst'],
  ])('lists %s archives (%s): id, size, strip', async (flag, name) => {
    const file = packTree(flag, name);
    const archive = await inspectArchive(file, name);
    const bytes = readFileSync(file);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(archive).toMatchObject({
      sha256: sha,
      id: sha.slice(0, 16),
      size: bytes.length,
      strip: 1,
    });
    expect(await archive.bytes()).toEqual({ file, size: bytes.length });
  });

  it("refuses what tar cannot read, naming tar's complaint", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'release-'));
    const file = join(dir, 'broken.tar.gz');
    writeFileSync(file, 'not an archive');
    await expect(inspectArchive(file, 'broken.tar.gz')).rejects.toThrow(/tar cannot read it/);
  });

  it('reads the bytes once, and refuses them when the file changed since load', async () => {
    const file = packTree(undefined, 'r.tar');
    const archive = await inspectArchive(file, 'r.tar');
    writeFileSync(file, 'replaced');
    await expect(archive.bytes()).rejects.toThrow(/changed during the run/);
  });
});
