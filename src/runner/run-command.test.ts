import { describe, expect, it } from 'vitest';
import type { ExecOutcome, ExecRequest } from '../exec/executor.js';
import { makeHost } from '../../test/utils/host.js';
import { UnreachableError } from '../transport/ssh-errors.js';
import { hostFanOut, type FanOut } from './fan-out.js';
import type { HostSession } from './run-host.js';
import { runCommandOnHosts, type CommandRunOptions } from './run-command.js';
import { noTraffic } from './types.js';

type Behaviour = (request: ExecRequest, session: { closed: boolean }) => Promise<ExecOutcome>;

function outcome(exitCode: number | null, fields: Partial<ExecOutcome> = {}): ExecOutcome {
  return {
    exitCode,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    durationMs: 1,
    timedOut: false,
    ...fields,
  };
}

/** Hosts whose one command behaves as told; records the command lines and closes. */
function fakeFleet(behaviours: Record<string, Behaviour | 'unreachable'>) {
  const commands: Record<string, string> = {};
  const closed = new Set<string>();
  const open: FanOut['open'] = (host) => {
    const behaviour = behaviours[host.name];
    if (behaviour === 'unreachable' || behaviour === undefined) {
      return Promise.reject(new UnreachableError('refused', `${host.name}: connection refused`));
    }
    const state = { closed: false };
    const session: HostSession = {
      stats: { ...noTraffic(), connections: 1 },
      warnings: [],
      close: () => {
        state.closed = true;
        closed.add(host.name);
      },
      exec: (command, request = {}) => {
        commands[host.name] = command;
        session.stats.roundTrips += 1;
        return behaviour(request, state);
      },
    };
    return Promise.resolve({ session, become: host.name === 'sudo1' });
  };
  return { open, commands, closed };
}

const hosts = (...names: string[]) => names.map((name) => makeHost({}, name));

function options(
  fleet: ReturnType<typeof fakeFleet>,
  {
    forks = 10,
    interrupt = new AbortController().signal,
    ...extra
  }: Partial<CommandRunOptions> & { forks?: number; interrupt?: AbortSignal } = {},
): CommandRunOptions {
  return {
    fanOut: hostFanOut(forks, interrupt, fleet.open),
    commandLine: (host, become) => `${become ? 'sudo ' : ''}run-on ${host.name}`,
    observer: {},
    keepOutput: true,
    ...extra,
  };
}

describe('runCommandOnHosts', () => {
  it('one command per host; a non-zero exit fails that host alone (exit 2)', async () => {
    const fleet = fakeFleet({
      web1: () => Promise.resolve(outcome(0, { stdout: Buffer.from('fine\n') })),
      web2: () => Promise.resolve(outcome(3)),
      sudo1: () => Promise.resolve(outcome(0)),
    });
    const result = await runCommandOnHosts(hosts('web1', 'web2', 'sudo1'), options(fleet));
    expect(result.hosts.map((h) => [h.host, h.status, h.exitCode])).toEqual([
      ['web1', 'ok', 0],
      ['web2', 'failed', 3],
      ['sudo1', 'ok', 0],
    ]);
    expect(result.hosts[0]?.stdout.toString()).toBe('fine\n');
    expect(result.hosts[0]?.stats).toEqual({ roundTrips: 1, channels: 0, connections: 1 });
    expect(result.exitCode).toBe(2);
    expect(fleet.commands).toEqual({
      web1: 'run-on web1',
      web2: 'run-on web2',
      sudo1: 'sudo run-on sudo1',
    });
    expect([...fleet.closed].sort()).toEqual(['sudo1', 'web1', 'web2']);
  });

  it('an unreachable host is exit 4 when none failed; a signal or a lost connection fails', async () => {
    const fleet = fakeFleet({
      web1: () => Promise.resolve(outcome(0)),
      web2: 'unreachable',
    });
    const result = await runCommandOnHosts(hosts('web1', 'web2'), options(fleet));
    expect(result.hosts[1]).toMatchObject({
      status: 'unreachable',
      message: 'web2: connection refused',
    });
    expect(result.exitCode).toBe(4);

    const worse = fakeFleet({
      web1: () => Promise.resolve(outcome(null, { signal: 'SIGTERM' })),
      web2: () => Promise.reject(new Error('web2: connection lost: reset')),
    });
    const failed = await runCommandOnHosts(hosts('web1', 'web2'), options(worse));
    expect(failed.hosts.map((h) => [h.status, h.message])).toEqual([
      ['failed', 'killed by SIGTERM'],
      ['failed', 'web2: connection lost: reset'],
    ]);
    expect(failed.exitCode).toBe(2);
  });

  it('streams both outputs to the observer and keeps none when told', async () => {
    const seen: string[] = [];
    const fleet = fakeFleet({
      web1: (request) => {
        request.onStdout?.(Buffer.from('out'));
        request.onStderr?.(Buffer.from('err'));
        return Promise.resolve(outcome(0));
      },
    });
    await runCommandOnHosts(
      hosts('web1'),
      options(fleet, {
        keepOutput: false,
        observer: {
          output: (host, stream, chunk) => seen.push(`${host} ${stream} ${String(chunk)}`),
        },
      }),
    );
    expect(seen).toEqual(['web1 stdout out', 'web1 stderr err']);
  });

  it('Ctrl-C: the commands in flight get it, hosts not started are skipped, exit 130', async () => {
    const controller = new AbortController();
    const fleet = fakeFleet({
      web1: (request) =>
        new Promise((resolve) => {
          // The command ends when it gets the interrupt, as journalctl does on SIGINT.
          request.interrupt?.addEventListener('abort', () => {
            resolve(outcome(null, { signal: 'SIGINT' }));
          });
          controller.abort();
        }),
      web2: () => Promise.resolve(outcome(0)),
    });
    const result = await runCommandOnHosts(
      hosts('web1', 'web2'),
      options(fleet, { forks: 1, interrupt: controller.signal }),
    );
    expect(result.hosts.map((h) => [h.host, h.status, h.message])).toEqual([
      ['web1', 'failed', 'killed by SIGINT'],
      ['web2', 'skipped', 'interrupted'],
    ]);
    expect(fleet.commands.web2).toBeUndefined();
    expect(result).toMatchObject({ interrupted: true, exitCode: 130 });
  });

  it('after Ctrl-C, closes the connection of a command that ignores it (read-only commands)', async () => {
    const controller = new AbortController();
    const fleet = fakeFleet({
      web1: (_request, session) =>
        new Promise((_resolve, reject) => {
          controller.abort();
          const poll = setInterval(() => {
            if (!session.closed) return;
            clearInterval(poll);
            reject(new Error('web1: connection closed while a command ran'));
          }, 5);
        }),
    });
    const result = await runCommandOnHosts(
      hosts('web1'),
      options(fleet, { interrupt: controller.signal, closeAfterInterruptMs: 20 }),
    );
    expect(fleet.closed.has('web1')).toBe(true);
    expect(result.exitCode).toBe(130);
  });
});
