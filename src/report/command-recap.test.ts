import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunResult } from '../runner/run-command.js';
import { noTraffic } from '../runner/types.js';
import { commandOutcome, formatCommandRecap, logsProblemLine } from './command-recap.js';

function host(name: string, fields: Partial<CommandResult>): CommandResult {
  return {
    host: name,
    status: 'ok',
    exitCode: 0,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    durationMs: 1230,
    stats: noTraffic(),
    ...fields,
  };
}

const run = (hosts: CommandResult[], interrupted = false): CommandRunResult => ({
  hosts,
  durationMs: 2000,
  interrupted,
  exitCode: 2,
});

describe('the exec recap', () => {
  it("lists each host's exit status, sorted, in the PLAY RECAP's columns", () => {
    const text = formatCommandRecap(
      run([
        host('web2', { status: 'failed', exitCode: 3 }),
        host('web1', {}),
        host('web3', { status: 'unreachable', exitCode: null, message: 'connection refused' }),
        host('web4', {
          status: 'failed',
          exitCode: null,
          signal: 'SIGINT',
          message: 'killed by SIGINT',
        }),
        host('web5', { status: 'skipped', exitCode: null, message: 'interrupted' }),
      ]),
      false,
    );
    expect(text).toBe(
      [
        '',
        `EXEC RECAP ${'*'.repeat(69)}`,
        'web1                       : exit=0    ok (1.23s)',
        'web2                       : exit=3    failed (1.23s)',
        'web3                       : unreachable: connection refused',
        'web4                       : failed: killed by SIGINT (1.23s)',
        'web5                       : skipped: interrupted',
        '',
      ].join('\n'),
    );
  });

  it('says when Ctrl-C interrupted the commands', () => {
    expect(formatCommandRecap(run([host('web1', {})], true), false)).toContain(
      '\nInterrupted: the commands in flight were sent Ctrl-C; no other host was started.\n',
    );
  });

  it('keeps a message on one line', () => {
    expect(commandOutcome(host('h', { status: 'failed', exitCode: null, message: 'a\nb' }))).toBe(
      'failed: a\\nb',
    );
  });
});

describe("logs' line for a host that ended badly", () => {
  const unreadable = host('web2', {
    status: 'failed',
    exitCode: 1,
    stderr: Buffer.from(
      'Hint: You are currently not seeing messages from other users and the system.\nNo journal files were opened due to insufficient permissions.\n',
    ),
  });

  it("names the exit code and the program's own reason", () => {
    expect(logsProblemLine(unreadable, false)).toBe(
      '[web2] failed: exit 1: No journal files were opened due to insufficient permissions.',
    );
  });

  it('is nothing for a host that answered', () => {
    expect(logsProblemLine(host('web1', {}), false)).toBeUndefined();
  });

  it('with -f, calls any end a drop-out', () => {
    const lost = host('web3', {
      status: 'failed',
      exitCode: null,
      message: 'root@10.0.0.3:22: connection lost: the host closed the connection',
    });
    expect(logsProblemLine(lost, true)).toBe(
      '[web3] dropped out: root@10.0.0.3:22: connection lost: the host closed the connection',
    );
    const never = host('web4', { status: 'unreachable', exitCode: null, message: 'refused' });
    expect(logsProblemLine(never, true)).toBe('[web4] unreachable: refused');
    expect(logsProblemLine(host('web1', {}), true)).toBe(
      '[web1] dropped out: the log ended (exit 0)',
    );
  });
});
