import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLY_SH as APPLY_PROGRAM } from './program.js';

/** A fake backend whose `rm` always fails; `container inspect` finds the container when told. */
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

describe('container-remove in the apply batch', () => {
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
