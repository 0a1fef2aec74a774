import { describe, expect, it } from 'vitest';
import type { Task } from '../plan/task.js';
import type { Change } from '../plan/types.js';
import { healthCheck } from '../../tasks/lib/health-check.js';
import { UNIT_NAME } from '../../tasks/lib/layout.js';
import {
  failingAt,
  failLine,
  fakeSession,
  type HostScript,
} from '../../test/utils/fake-session.js';
import { makeHost } from '../../test/utils/host.js';
import { ConnectionLostError, UnreachableError } from '../transport/ssh-errors.js';
import { runHost, type HostRunOptions } from './run-host.js';
import type { HostResult, RunObserver } from './types.js';

/** A task that asks no fact (so the apply is the only round trip) and plans `changes`. */
function task(name: string, changes: (host: ReturnType<typeof makeHost>) => Change[]): Task {
  return { name, facts: () => [], plan: (host) => changes(host) };
}

const restart: Change = { kind: 'systemd', action: 'restart', unit: UNIT_NAME, reason: 'test' };

/** The service restarted and checked; `rollback`: what the planner found to go back to. */
const service = (rollback: { possible: boolean; generation?: number }) =>
  task('service', (host) => [restart, healthCheck(host.hermes, rollback)]);

const CAUSE = 'hermes-agent.service did not stay active';

function run(
  tasks: readonly Task[],
  script: HostScript,
  options: Partial<HostRunOptions> = {},
): Promise<HostResult> {
  const { session } = fakeSession(script);
  return runHost(makeHost(), tasks, {
    check: false,
    selected: new Set(tasks.map((t) => t.name)),
    observer: {},
    signal: new AbortController().signal,
    open: () => Promise.resolve({ session, become: false }),
    commandLine: (script) => script,
    ...options,
  });
}

describe('runHost: a failed health check', () => {
  it('that the batch rolled back is reported with the generation it went back to', async () => {
    const result = await run(
      [service({ possible: true, generation: 4 })],
      failingAt('wait-healthy', CAUSE, 'rollback\tok\n'),
    );
    expect(result).toMatchObject({
      status: 'failed',
      failedTask: 'service',
      rollback: { outcome: 'rolled-back', generation: 4, cause: CAUSE },
      message: `rolled back to generation 4: ${CAUSE}`,
    });
    expect(result.tasks.map((t) => [t.task, t.status])).toEqual([['service', 'failed']]);
  });

  it('whose rollback failed too says both', async () => {
    const undo = Buffer.from('cannot put back /etc/x', 'utf8').toString('base64');
    const result = await run(
      [service({ possible: true, generation: 4 })],
      failingAt('wait-healthy', CAUSE, `rollback\tfail\t${undo}\n`),
    );
    expect(result.rollback).toEqual({
      outcome: 'rollback-failed',
      generation: 4,
      cause: CAUSE,
      message: 'cannot put back /etc/x',
    });
    expect(result.message).toBe(
      `rolled back to generation 4: ${CAUSE}\n--- and the rollback failed too ---\ncannot put back /etc/x`,
    );
  });

  it('on a first deploy is left as the run made it, and says why', async () => {
    const result = await run([service({ possible: false })], failingAt('wait-healthy', CAUSE));
    expect(result.status).toBe('failed');
    expect(result.rollback).toEqual({
      outcome: 'not-rolled-back',
      reason: 'first-deploy',
      cause: CAUSE,
    });
    expect(result.message).toMatch(/first deploy: nothing before this run to roll back to/);
  });

  it('with --no-rollback is left as the run made it', async () => {
    const result = await run(
      [service({ possible: true, generation: 2 })],
      failingAt('wait-healthy', CAUSE),
      { noRollback: true },
    );
    expect(result.rollback).toEqual({
      outcome: 'not-rolled-back',
      reason: 'no-rollback',
      cause: CAUSE,
    });
  });

  it('a failure that is not the restart or its check carries no rollback', async () => {
    const result = await run([service({ possible: true })], failingAt('systemd', 'no such unit'));
    expect(result).toMatchObject({
      status: 'failed',
      failedTask: 'service',
      message: 'no such unit',
    });
    expect(result.rollback).toBeUndefined();
  });
});

describe('runHost: a host lost during the apply', () => {
  const lost =
    (stdout: string): HostScript =>
    () => ({
      stdout,
      reject: new ConnectionLostError('web1: connection lost: connection reset by the host'),
    });

  it('before its first change is unreachable (nothing was changed)', async () => {
    // Operation 0 marks the task's start; it changes nothing.
    const result = await run([service({ possible: true })], lost('0\tok\n'));
    expect(result).toMatchObject({
      status: 'unreachable',
      failedTask: 'service',
      message: 'web1: connection lost: connection reset by the host',
    });
  });

  it('after a change has failed half-way', async () => {
    const result = await run([service({ possible: true })], lost('0\tok\n1\tok\n'));
    expect(result.status).toBe('failed');
    expect(result.message).toBe('web1: connection lost: connection reset by the host');
  });

  it('a batch that stops early without saying why fails the host with its exit code', async () => {
    const result = await run([service({ possible: true })], () => ({
      stdout: '0\tok\n',
      exitCode: 137,
    }));
    expect(result.status).toBe('failed');
    expect(result.message).toBe('the apply step stopped early (exit code 137)');
  });
});

describe('runHost: Ctrl-C', () => {
  const first = task('users', () => [restart]);
  const second = task('service', () => [
    { kind: 'restart-pending', action: 'clear', path: '/run/x', unit: UNIT_NAME },
  ]);

  it('in the apply: the task in flight finishes, the ones after it are skipped', async () => {
    const result = await run([first, second], () => ({
      stdout: '0\tok\n1\tok\ninterrupted\n',
      exitCode: 0,
    }));
    expect(result.tasks.map((t) => [t.task, t.status, t.message])).toEqual([
      ['users', 'changed', undefined],
      ['service', 'skipped', 'interrupted'],
    ]);
    expect(result.status).toBe('changed');
  });

  it('before the host started: nothing is contacted, every task skipped', async () => {
    const controller = new AbortController();
    controller.abort();
    let opened = false;
    const result = await run([first, second], () => ({ stdout: '' }), {
      signal: controller.signal,
      open: () => {
        opened = true;
        return Promise.reject(new Error('not to be called'));
      },
    });
    expect(opened).toBe(false);
    expect(result.status).toBe('skipped');
    expect(result.tasks.map((t) => [t.status, t.message])).toEqual([
      ['skipped', 'interrupted'],
      ['skipped', 'interrupted'],
    ]);
  });

  it('after the login, before the apply: the batch is not sent', async () => {
    const controller = new AbortController();
    const { session, sent } = fakeSession();
    const result = await run([first], () => ({ stdout: '' }), {
      signal: controller.signal,
      open: () => {
        controller.abort();
        return Promise.resolve({ session, become: false });
      },
    });
    expect(sent).toEqual([]);
    expect(result.status).toBe('skipped');
    expect(result.tasks[0]?.message).toBe('interrupted before applying');
  });
});

describe('runHost: the login', () => {
  it('that fails is unreachable, with no task run', async () => {
    const result = await run([service({ possible: true })], () => ({ stdout: '' }), {
      open: () => Promise.reject(new UnreachableError('refused', 'web1: connection refused')),
    });
    expect(result).toMatchObject({
      status: 'unreachable',
      tasks: [],
      message: 'web1: connection refused',
    });
  });

  it("passes the connection's warnings on as warning events, and closes it", async () => {
    const warnings: string[] = [];
    const details: string[] = [];
    const observer: RunObserver = {
      warning: (host, text) => warnings.push(`${host}: ${text}`),
      detail: (_host, _level, text) => details.push(text),
    };
    const { session, closed } = fakeSession();
    await runHost(makeHost(), [service({ possible: true })], {
      check: false,
      selected: new Set(['service']),
      observer,
      signal: new AbortController().signal,
      open: () =>
        Promise.resolve({
          session: { ...session, warnings: ['host key checking is off for web1'] },
          become: false,
        }),
      commandLine: (script) => script,
    });
    expect(warnings).toEqual(['web1: host key checking is off for web1']);
    expect(details).not.toContain('host key checking is off for web1');
    expect(closed()).toBe(true);
  });
});

it('failLine encodes the message as apply.sh does', () => {
  expect(failLine(3, 'x y')).toBe('3\tfail\teCB5\n');
});
