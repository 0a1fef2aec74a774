import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeOps, planOps } from '../encode-ops.js';
import { APPLY_SH } from '../program.js';

/**
 * getent, groupadd and useradd replaced by small scripts first on PATH: getent finds the names
 * listed in `known`; groupadd and useradd write their arguments, one a line, to a log.
 */
function fakeAccounts(known: string[]): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'accounts-'));
  const log = join(dir, 'log');
  const tool = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  tool('getent', `case " ${known.join(' ')} " in *" $1:$3 "*) echo "$3:x:1:" ;; *) exit 2 ;; esac`);
  tool('groupadd', `{ echo groupadd; printf '%s\\n' "$@"; } >>'${log}'`);
  tool('useradd', `{ echo useradd; printf '%s\\n' "$@"; } >>'${log}'`);
  return { dir, log };
}

async function applyAccounts(known: string[]): Promise<{ out: string; ran: string[] }> {
  const { dir, log } = fakeAccounts(known);
  const ops = planOps([
    {
      task: 'users',
      changes: [
        { kind: 'group-create', name: 'hermes' },
        {
          kind: 'user-create',
          name: 'hermes',
          group: 'hermes',
          home: '/var/lib/hermes',
          shell: '/usr/sbin/nologin',
        },
      ],
    },
  ]);
  const result = spawnSync('/bin/sh', ['-c', APPLY_SH], {
    input: Buffer.concat(await encodeOps(ops)),
    env: { PATH: `${dir}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  const ran = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { out: result.stdout, ran };
}

describe('group-create and user-create in the apply batch (a real shell, fake tools)', () => {
  it('makes a missing system group and user, with the home and shell the plan names', async () => {
    const { out, ran } = await applyAccounts([]);
    expect(out).toBe('0\tok\n1\tok\n2\tok\nend\n');
    expect(ran).toEqual([
      'groupadd',
      '--system',
      'hermes',
      'useradd',
      '--system',
      '--gid',
      'hermes',
      '--home-dir',
      '/var/lib/hermes',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'hermes',
    ]);
  });

  it('leaves a group and a user that exist as they are', async () => {
    const { out, ran } = await applyAccounts(['group:hermes', 'passwd:hermes']);
    expect(out).toBe('0\tok\n1\tok\n2\tok\nend\n');
    expect(ran).toEqual([]);
  });
});
