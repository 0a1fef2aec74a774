import { partsBytes } from '../../../test/utils/stdin.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageArchive } from '../../inventory/types.js';
import { APPLY_SH as APPLY_PROGRAM } from '../program.js';
import { encodeOps, planOps } from '../encode-ops.js';

const ID = `sha256:${'a'.repeat(64)}`;

/**
 * A fake podman: `load --input FILE` keeps a copy of FILE and notes the directory it was in
 * (mode, owner); `image inspect` knows ID once something was loaded, unless told it never will.
 */
function fakeBackend(knowsImage = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'image-load-'));
  writeFileSync(
    join(dir, 'podman'),
    [
      '#!/bin/sh',
      `state=${dir}`,
      'if [ "$1" = load ] && [ "$2" = --input ]; then',
      '  cp -- "$3" "$state/loaded.tar"',
      '  d=$(dirname -- "$3"); printf "%s\\n" "$d" >"$state/where"',
      '  stat -c "%a %U" -- "$d" >"$state/dir-attrs"',
      '  exit 0',
      'fi',
      'if [ "$1" = image ] && [ "$2" = inspect ]; then',
      `  [ ${knowsImage ? '-e "$state/loaded.tar"' : '-n ""'} ] && [ "$6" = ${ID} ] && exit 0`,
      '  exit 125',
      'fi',
      'exit 2',
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'podman'), 0o755);
  return dir;
}

function archiveOf(bytes: Buffer, sent = bytes): ImageArchive {
  return {
    path: '/control/hermes.tar',
    written: 'images/hermes.tar',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    id: ID,
    bytes: () => Promise.resolve(sent),
  };
}

async function applyLoad(
  dir: string,
  archive: ImageArchive,
): Promise<{ out: string; why: string }> {
  const ops = planOps([
    { task: 'service', changes: [{ kind: 'image-load', backend: 'podman', archive }] },
  ]);
  const result = spawnSync('/bin/sh', ['-c', APPLY_PROGRAM], {
    input: partsBytes(await encodeOps(ops)),
    env: { PATH: `${dir}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  const fail = result.stdout.split('\n').find((line) => line.startsWith('1\tfail\t'));
  return {
    out: result.stdout,
    why: fail ? Buffer.from(fail.split('\t')[2] ?? '', 'base64').toString() : '',
  };
}

const image = Buffer.from('an image archive\n'.repeat(5000));

describe('image-load in the apply batch (a real shell, a fake runtime)', () => {
  it('loads exactly the bytes sent, from a 0700 directory of its own in /var/tmp, removed after', async () => {
    const dir = fakeBackend();
    const { out } = await applyLoad(dir, archiveOf(image));
    expect(out).toBe('0\tok\n1\tok\nend\n');
    expect(readFileSync(join(dir, 'loaded.tar')).equals(image)).toBe(true);
    const where = readFileSync(join(dir, 'where'), 'utf8').trim();
    expect(where).toMatch(/^\/var\/tmp\/hermes-fleet-image\.[A-Za-z0-9]{6}$/);
    const user = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
    expect(readFileSync(join(dir, 'dir-attrs'), 'utf8').trim()).toBe(`700 ${user}`);
    expect(existsSync(where)).toBe(false);
  });

  it('loads nothing from a corrupted upload, and leaves no temporary directory', async () => {
    const dir = fakeBackend();
    const corrupted = Buffer.from(image);
    corrupted[100] = (corrupted[100] ?? 0) ^ 0xff;
    const { why } = await applyLoad(dir, archiveOf(image, corrupted));
    expect(why).toMatch(
      new RegExp(`image ${ID}: the upload arrived corrupted .*nothing was loaded`),
    );
    expect(existsSync(join(dir, 'loaded.tar'))).toBe(false);
  });

  it('loads nothing from a truncated upload', async () => {
    const dir = fakeBackend();
    const { why } = await applyLoad(dir, archiveOf(image, image.subarray(0, 1000)));
    expect(why).toMatch(/the upload arrived incomplete; nothing was loaded/);
    expect(existsSync(join(dir, 'loaded.tar'))).toBe(false);
  });

  it('fails when the runtime does not know the image id after the load', async () => {
    const { why } = await applyLoad(fakeBackend(false), archiveOf(image));
    expect(why).toBe(
      `podman load went through, but podman does not know image ${ID}, the one the archive's manifest names`,
    );
  });
});

describe('container-remove in the apply batch', () => {
  /**
   * Its own fake backend (the one above is image-load's): `rm` always fails; `container inspect`
   * finds the container when told.
   */
  function fakeBackend(containerStays: boolean): string {
    const dir = mkdtempSync(join(tmpdir(), 'container-rm-'));
    writeFileSync(
      join(dir, 'podman'),
      [
        '#!/bin/sh',
        'if [ "$1" = rm ]; then echo "rm: device busy" >&2; exit 1; fi',
        `if [ "$1" = container ] && [ "$2" = inspect ]; then exit ${containerStays ? 0 : 1}; fi`,
        'exit 2',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'podman'), 0o755);
    return dir;
  }

  function applyContainerRm(dir: string): string {
    const result = spawnSync('/bin/sh', ['-c', APPLY_PROGRAM], {
      input: '0\tcontainer-remove\tbackend=podman\tname=hermes-agent\n',
      env: { PATH: `${dir}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    return result.stdout;
  }

  it('passes when the container is gone, whatever rm said', () => {
    expect(applyContainerRm(fakeBackend(false))).toBe('0\tok\nend\n');
  });

  it('fails when the container is still there after rm', () => {
    const out = applyContainerRm(fakeBackend(true));
    const [index, status, message = ''] = out.trim().split('\t');
    expect([index, status]).toEqual(['0', 'fail']);
    expect(Buffer.from(message, 'base64').toString()).toBe(
      'podman rm -f hermes-agent failed: rm: device busy',
    );
  });
});
