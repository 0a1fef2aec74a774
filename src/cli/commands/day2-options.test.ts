import { describe, expect, it } from 'vitest';
import { UserError } from '../../errors.js';
import { commandArgv, execCommand } from './exec.js';
import { checkFollowForks, checkLines, logsCommand } from './logs.js';
import { restartCommand } from './restart.js';

function message(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).format();
  }
  throw new Error('expected a UserError');
}

async function rejection(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return (error as UserError).format();
}

// No inventory file exists: a check that runs first fails before it would be read.
const NO_FILE = { inventory: ['/nonexistent/hosts.yaml'], forks: 50, json: false };

describe('exec', () => {
  it('needs a command after --: exit 1 with the usage line', async () => {
    for (const words of [undefined, []]) {
      expect(message(() => commandArgv(words))).toBe(
        'exec: no command given: it and its arguments follow --\n' +
          'usage: hermes-fleet exec -i FILE [-l PATTERN] [--as root|service] [--group] -- CMD [ARG...]',
      );
    }
    expect(
      await rejection(() => execCommand({ ...NO_FILE, as: 'root', group: false, command: [] })),
    ).toMatch(/^exec: no command given/);
  });

  it('keeps the words whole, exactly as given', () => {
    expect(commandArgv(['printf', '%s\n', '010', '0x10', '', '-n'])).toEqual([
      'printf',
      '%s\n',
      '010',
      '0x10',
      '',
      '-n',
    ]);
  });
});

describe('logs', () => {
  it('refuses -n 0, -n -5, 2.5 and NaN before any host is contacted', async () => {
    for (const n of [0, -5, 2.5, Number.NaN]) {
      expect(
        message(() => {
          checkLines(n);
        }),
      ).toBe(`-n ${n}: must be a whole number of lines, at least 1`);
      expect(await rejection(() => logsCommand({ ...NO_FILE, lines: n, follow: false }))).toMatch(
        /^-n /,
      );
    }
    expect(() => {
      checkLines(1);
    }).not.toThrow();
  });

  it('-f needs room to follow every selected host at once', () => {
    expect(() => {
      checkFollowForks(50, 50);
    }).not.toThrow();
    expect(
      message(() => {
        checkFollowForks(50, 80);
      }),
    ).toBe(
      'logs -f follows every selected host at once, but 50 may run at once and 80 are selected\n' +
        '  hint: raise --forks to 80 (and `ulimit -n` with it), or select fewer hosts with -l',
    );
  });
});

describe('restart', () => {
  it('checks --serial, --forks and --max-fail-percentage as run does', async () => {
    const args = { ...NO_FILE, verbose: 0 };
    expect(await rejection(() => restartCommand({ ...args, serial: '0' }))).toMatch(/^--serial 0:/);
    expect(await rejection(() => restartCommand({ ...args, forks: 0 }))).toMatch(/^--forks 0:/);
    expect(await rejection(() => restartCommand({ ...args, maxFailPercentage: 120 }))).toMatch(
      /^--max-fail-percentage 120:/,
    );
  });
});
