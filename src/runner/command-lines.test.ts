import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { accountCommandLine, becomeCommandLine, rootCommandLine } from './command-lines.js';

// Every word a shell could take for something else: spaces, expansions, separators, quotes,
// newlines, globs, an option, an assignment, nothing at all.
const HOSTILE = [
  'two words',
  '$(touch /tmp/hermes-fleet-pwned)',
  '`id`',
  '; rm -rf / ;',
  "it's",
  '"double"',
  'line\nbreak\n',
  '*',
  '~',
  '-n',
  '',
  '\\',
  'NAME=value',
  '%s %% $HOME ${HOME}',
];

/**
 * A host's programs replaced by small scripts first on PATH: `id` says who we are, `sudo -n --`
 * and `runuser -u USER --` record themselves and run the rest, so the lines run for real in a
 * local shell, without root.
 */
function fakeHost(uid: number) {
  const dir = mkdtempSync(join(tmpdir(), 'command-lines-'));
  const tool = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  const log = join(dir, 'log');
  tool('id', `echo ${uid}`);
  tool('sudo', `[ "$1 $2" = '-n --' ] || exit 99; echo sudo >> ${quote(log)}; shift 2; exec "$@"`);
  tool(
    'runuser',
    `[ "$1 $3" = '-u --' ] || exit 99; echo "runuser $2" >> ${quote(log)}; shift 3; exec "$@"`,
  );
  return {
    run: (line: string) => localExecutor.exec(`PATH=${quote(dir)}:"$PATH"; export PATH; ${line}`),
    log: () => {
      try {
        return readFileSync(log, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

const PRINT_ARGS = ['/usr/bin/printf', '%s\\0'];
const expected = Buffer.from(HOSTILE.map((arg) => `${arg}\0`).join(''), 'utf8');

describe('the command lines of exec and logs', () => {
  it('passes the argv through byte for byte, as root (a root login)', async () => {
    const host = fakeHost(0);
    const result = await host.run(rootCommandLine([...PRINT_ARGS, ...HOSTILE], false));
    expect(result.stderr.toString()).toBe('');
    expect(result.stdout.equals(expected)).toBe(true);
    expect(host.log()).toBe('');
  });

  it('passes the argv through byte for byte, through sudo -n', async () => {
    const host = fakeHost(1000);
    const result = await host.run(rootCommandLine([...PRINT_ARGS, ...HOSTILE], true));
    expect(result.stdout.equals(expected)).toBe(true);
    expect(host.log()).toBe('sudo\n');
  });

  it('refuses to run as a login that is not root when become is off', async () => {
    const host = fakeHost(1000);
    const result = await host.run(rootCommandLine(['/usr/bin/printf', 'ran'], false));
    expect(result.exitCode).toBe(126);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toBe(
      'hermes-fleet: commands run as uid 1000, not root: log in as root, or set ssh.become: sudo\n',
    );
  });

  it('runs as the service account in its directory, with its environment', async () => {
    const host = fakeHost(0);
    const cwd = mkdtempSync(join(tmpdir(), 'work dir $(x) '));
    const account = {
      user: 'hermes',
      cwd,
      env: [
        ['HERMES_HOME', "/var/lib/it's $HOME"],
        ['PATH', '/usr/bin:/bin'],
      ] as const,
    };
    const probe = 'pwd; printf "%s\\n" "$HERMES_HOME" "$PATH"; printf "%s\\0" "$@"';
    const result = await host.run(
      accountCommandLine(['/bin/sh', '-c', probe, 'sh', ...HOSTILE], account, true),
    );
    expect(result.stderr.toString()).toBe('');
    expect(result.stdout.toString()).toBe(
      `${cwd}\n/var/lib/it's $HOME\n/usr/bin:/bin\n${expected.toString()}`,
    );
    expect(host.log()).toBe('sudo\nrunuser hermes\n');
  });

  it("fails when the account's directory is not there", async () => {
    const host = fakeHost(0);
    const account = { user: 'hermes', cwd: '/nonexistent/hermes-fleet', env: [] };
    const result = await host.run(accountCommandLine(['/usr/bin/printf', 'ran'], account, false));
    expect(result.exitCode).toBe(126);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.toString()).toMatch(/can't cd to \/nonexistent\/hermes-fleet/);
  });

  it('reads as the login when become is off (logs: the journal decides who may read it)', () => {
    expect(becomeCommandLine(['journalctl', '--unit=x y'], false)).toBe(
      "exec journalctl '--unit=x y'",
    );
    expect(becomeCommandLine(['journalctl'], true)).toBe('exec sudo -n -- journalctl');
  });
});
