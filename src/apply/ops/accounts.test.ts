import { partsBytes } from '../../../test/utils/stdin.js';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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
    input: partsBytes(await encodeOps(ops)),
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

/** A PATH of every tool in /usr/bin and /bin (linked into `dir`) but apt-get. */
function withoutAptGet(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const from of ['/usr/bin', '/bin']) {
    for (const name of readdirSync(from)) {
      if (name !== 'apt-get' && !existsSync(join(bin, name)))
        symlinkSync(join(from, name), join(bin, name));
    }
  }
  return bin;
}

describe('package-install in the apply batch (a real shell, a fake apt-get)', () => {
  async function install(
    aptGet: string | undefined,
    names = ['jq', 'ripgrep'],
  ): Promise<{ out: string; ran: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'packages-'));
    const log = join(dir, 'log');
    if (aptGet !== undefined) {
      writeFileSync(join(dir, 'apt-get'), `#!/bin/sh\necho "$*" >>'${log}'\n${aptGet}\n`);
      chmodSync(join(dir, 'apt-get'), 0o755);
      // What dpkg says afterwards: each name installed, but `ghost` (no package of that name).
      writeFileSync(
        join(dir, 'dpkg-query'),
        `#!/bin/sh\neval "n=\\\${$#}"\n[ "$n" = ghost ] && echo 'un ' || echo 'ii '\n`,
      );
      chmodSync(join(dir, 'dpkg-query'), 0o755);
    }
    const ops = planOps([{ task: 'packages', changes: [{ kind: 'package-install', names }] }]);
    const result = spawnSync('/bin/sh', ['-c', APPLY_SH], {
      input: partsBytes(await encodeOps(ops)),
      // No system apt-get may be reached: only the fake one, or none.
      env: { PATH: aptGet === undefined ? withoutAptGet(dir) : `${dir}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    const ran = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { out: result.stdout, ran };
  }

  it('installs the named packages in one apt-get, each its own argument', async () => {
    const { out, ran } = await install('exit 0');
    expect(out).toBe('0\tok\n1\tok\nend\n');
    expect(ran).toEqual([
      '-o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends jq ripgrep',
    ]);
  });

  it('refreshes the package lists once when the install fails, then installs', async () => {
    // Fails until `update` ran.
    const { out, ran } = await install(
      `case "$*" in *" update "*) : >"$(dirname "$0")/updated" ;; *" install "*) [ -e "$(dirname "$0")/updated" ] ;; esac`,
    );
    expect(out).toBe('0\tok\n1\tok\nend\n');
    expect(ran).toEqual([
      '-o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends jq ripgrep',
      '-o DPkg::Lock::Timeout=300 update -q',
      '-o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends jq ripgrep',
    ]);
  });

  it('fails a name that apt-get did not install as that exact package', async () => {
    const { out } = await install('exit 0', ['jq', 'ghost']);
    const [, message = ''] = /^1\tfail\t(\S*)$/m.exec(out) ?? [];
    expect(Buffer.from(message, 'base64').toString('utf8')).toMatch(
      /package ghost is not installed after apt-get install/,
    );
  });

  it('never passes apt-get a name it would read as a removal', async () => {
    const { out, ran } = await install('exit 0', ['openssh-server-']);
    const [, message = ''] = /^1\tfail\t(\S*)$/m.exec(out) ?? [];
    expect(Buffer.from(message, 'base64').toString('utf8')).toMatch(/would read it as .* removal/);
    expect(ran).toEqual([]);
  });

  it('fails clearly on a host without apt-get', async () => {
    const { out } = await install(undefined);
    const [, message = ''] = /^1\tfail\t(\S*)$/m.exec(out) ?? [];
    expect(Buffer.from(message, 'base64').toString('utf8')).toMatch(/this host has no apt-get/);
  });
});

describe('group-member in the apply batch (a real shell, fake tools)', () => {
  async function addMember(groups: string): Promise<{ out: string; ran: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'member-'));
    const log = join(dir, 'log');
    const tool = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    tool('getent', 'echo "ana:x:1000:1000::/home/ana:/bin/bash"');
    tool('id', `echo '${groups}'`);
    tool('usermod', `printf '%s\\n' "$@" >>'${log}'`);
    const ops = planOps([
      { task: 'users', changes: [{ kind: 'group-member', name: 'ana', group: 'hermes' }] },
    ]);
    const result = spawnSync('/bin/sh', ['-c', APPLY_SH], {
      input: partsBytes(await encodeOps(ops)),
      env: { PATH: `${dir}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    const ran = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { out: result.stdout, ran };
  }

  it('adds the person to the group, appending (never replacing their other groups)', async () => {
    const { out, ran } = await addMember('ana users');
    expect(out).toBe('0\tok\n1\tok\nend\n');
    expect(ran).toEqual(['-a', '-G', 'hermes', 'ana']);
  });

  it('does nothing for a person already in it', async () => {
    const { out, ran } = await addMember('ana hermes');
    expect(out).toBe('0\tok\n1\tok\nend\n');
    expect(ran).toEqual([]);
  });
});
