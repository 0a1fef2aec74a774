import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../inventory/types.js';
import type { Task } from '../plan/task.js';
import { UNIT_NAME } from '../../tasks/lib/layout.js';
import { failingAt, fakeSession, type HostScript } from '../../test/utils/fake-session.js';
import { makeHost } from '../../test/utils/host.js';
import { UnreachableError } from '../transport/ssh-errors.js';
import { hostFanOut } from './fan-out.js';
import { batchesOf, exitCodeOf, runFleet, type FleetRunOptions } from './run-fleet.js';
import type { RunResult } from './types.js';

const restart: Task = {
  name: 'restart',
  facts: () => [],
  plan: () => [{ kind: 'systemd', action: 'restart', unit: UNIT_NAME, reason: 'test' }],
};

const hosts = (...names: string[]) => names.map((name) => makeHost({}, name));

/** Each host answers as its script says ('unreachable': the login fails); logs who started. */
function fleet(
  scripts: Record<string, HostScript | 'unreachable'>,
  options: Partial<FleetRunOptions> & { forks?: number; signal?: AbortSignal } = {},
) {
  const started: string[] = [];
  const open = (host: HostSpec) => {
    started.push(host.name);
    const script = scripts[host.name];
    if (script === 'unreachable' || script === undefined) {
      return Promise.reject(new UnreachableError('refused', `${host.name}: connection refused`));
    }
    return Promise.resolve({ session: fakeSession(script).session, become: false });
  };
  const { forks = 10, signal = new AbortController().signal, ...rest } = options;
  const run = (selected: readonly HostSpec[]): Promise<RunResult> =>
    runFleet(selected, [restart], {
      check: false,
      selected: new Set(['restart']),
      observer: {},
      fanOut: hostFanOut(forks, signal, open),
      commandLine: (script) => script,
      detailedExitcode: false,
      ...rest,
    });
  return { run, started };
}

const ok: HostScript = (ops) => ({
  stdout: `${ops.map((op) => `${op.index}\tok\n`).join('')}end\n`,
});
const fails = failingAt('systemd', 'no such unit');
const statuses = (result: RunResult) => result.hosts.map((h) => [h.host, h.status]);

describe('batchesOf', () => {
  it('splits by a number or a percentage of the hosts, rounding up, never below one', () => {
    expect(batchesOf([1, 2, 3, 4, 5], '2')).toEqual([[1, 2], [3, 4], [5]]);
    expect(batchesOf([1, 2, 3, 4, 5], '30%')).toEqual([[1, 2], [3, 4], [5]]);
    expect(batchesOf([1, 2, 3], '1%')).toEqual([[1], [2], [3]]);
    expect(batchesOf([1, 2, 3], undefined)).toEqual([[1, 2, 3]]);
    expect(batchesOf([], undefined)).toEqual([]);
  });
});

describe('exitCodeOf', () => {
  const of = (...s: ('ok' | 'changed' | 'failed' | 'unreachable' | 'skipped')[]) =>
    s.map((status) => ({ status }));
  it('130 interrupted, then 2 failed, 4 unreachable, 2 skipped, 3 changed with -d, else 0', () => {
    expect(exitCodeOf(of('failed'), true, false)).toBe(130);
    expect(exitCodeOf(of('unreachable', 'failed'), false, false)).toBe(2);
    expect(exitCodeOf(of('unreachable', 'changed'), false, true)).toBe(4);
    expect(exitCodeOf(of('skipped', 'ok'), false, false)).toBe(2);
    expect(exitCodeOf(of('changed', 'ok'), false, true)).toBe(3);
    expect(exitCodeOf(of('changed', 'ok'), false, false)).toBe(0);
  });
});

describe('runFleet', () => {
  it('runs every host; one failure does not stop the others (exit 2)', async () => {
    const { run, started } = fleet({ web1: fails, web2: ok, web3: ok });
    const result = await run(hosts('web1', 'web2', 'web3'));
    expect(statuses(result)).toEqual([
      ['web1', 'failed'],
      ['web2', 'changed'],
      ['web3', 'changed'],
    ]);
    expect(started).toEqual(['web1', 'web2', 'web3']);
    expect(result).toMatchObject({ mode: 'run', interrupted: false, exitCode: 2 });
  });

  it('an unreachable host and none failed is exit 4; --detailed-exitcode changed is 3', async () => {
    expect(
      (await fleet({ web1: 'unreachable', web2: ok }).run(hosts('web1', 'web2'))).exitCode,
    ).toBe(4);
    const detailed = fleet({ web1: ok }, { detailedExitcode: true });
    expect((await detailed.run(hosts('web1'))).exitCode).toBe(3);
  });

  it('--serial: a batch with a failed host stops the rollout; the rest are skipped, not started', async () => {
    const { run, started } = fleet({ web1: ok, web2: fails, web3: ok, web4: ok }, { serial: '2' });
    const result = await run(hosts('web1', 'web2', 'web3', 'web4'));
    expect(started).toEqual(['web1', 'web2']);
    expect(statuses(result)).toEqual([
      ['web1', 'changed'],
      ['web2', 'failed'],
      ['web3', 'skipped'],
      ['web4', 'skipped'],
    ]);
    const why = 'not started: the rollout stopped after 1 of 2 hosts failed';
    expect(result.hosts[2]).toMatchObject({ message: why });
    expect(result.hosts[2]?.tasks).toEqual([
      { task: 'restart', status: 'skipped', durationMs: 0, changes: [], message: why },
    ]);
    expect(result.exitCode).toBe(2);
  });

  it('--serial counts an unreachable host as failed', async () => {
    const { run, started } = fleet({ web1: 'unreachable', web2: ok }, { serial: '1' });
    const result = await run(hosts('web1', 'web2'));
    expect(started).toEqual(['web1']);
    expect(statuses(result)).toEqual([
      ['web1', 'unreachable'],
      ['web2', 'skipped'],
    ]);
  });

  it('--max-fail-percentage: batches go on while the failed share stays within it', async () => {
    const scripts = { web1: fails, web2: ok, web3: ok, web4: fails, web5: ok };
    const { run, started } = fleet(scripts, { serial: '1', maxFailPercentage: 40 });
    const result = await run(hosts('web1', 'web2', 'web3', 'web4', 'web5'));
    // After web1: 1 of 1 failed (100%) > 40%: stop.
    expect(started).toEqual(['web1']);
    expect(result.hosts.at(-1)?.message).toBe(
      'not started: the rollout stopped after 1 of 1 hosts failed',
    );
    const lenient = fleet(scripts, { serial: '2', maxFailPercentage: 50 });
    const all = await lenient.run(hosts('web1', 'web2', 'web3', 'web4', 'web5'));
    // 1 of 2 (50%), then 2 of 4 (50%): within; web5 runs.
    expect(lenient.started).toEqual(['web1', 'web2', 'web3', 'web4', 'web5']);
    expect(all.exitCode).toBe(2);
  });

  it('Ctrl-C: the batch in flight finishes, later batches are skipped as interrupted (130)', async () => {
    const controller = new AbortController();
    const interrupting: HostScript = (ops) => {
      controller.abort();
      return ok(ops, {});
    };
    const { run, started } = fleet(
      { web1: interrupting, web2: ok, web3: ok },
      { serial: '1', signal: controller.signal },
    );
    const result = await run(hosts('web1', 'web2', 'web3'));
    expect(started).toEqual(['web1']);
    expect(result.hosts.map((h) => [h.host, h.status, h.message])).toEqual([
      ['web1', 'changed', undefined],
      ['web2', 'skipped', 'interrupted'],
      ['web3', 'skipped', 'interrupted'],
    ]);
    expect(result).toMatchObject({ interrupted: true, exitCode: 130 });
  });

  it('--forks: at most that many hosts at once', async () => {
    const most = async (forks: number): Promise<number> => {
      let inFlight = 0;
      let peak = 0;
      const observer = {
        hostStarted: () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
        },
        hostFinished: () => {
          inFlight--;
        },
      };
      const { run } = fleet({ web1: ok, web2: ok, web3: ok }, { forks, observer });
      expect((await run(hosts('web1', 'web2', 'web3'))).exitCode).toBe(0);
      return peak;
    };
    expect(await most(1)).toBe(1);
    expect(await most(3)).toBe(3);
  });
});
