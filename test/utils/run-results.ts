/**
 * Shared data for the report tests: hosts in every state, and secret files whose values are
 * distinctive enough to search every output for. Facts are built with ./facts.js.
 */
import { expect } from 'vitest';
import type { PathFact } from '../../src/facts/types.js';
import type { Change } from '../../src/plan/types.js';
import type { HostResult, RunObserver, RunResult, TaskResult } from '../../src/runner/types.js';
import { Secret } from '../../src/secret.js';
import { ABSENT, HERMES_750, file } from './facts.js';

/** Every value a test must never find in any output. */
export const SECRET_VALUES = [
  'SECRET-VALUE-123',
  'SECRET-OLD-456',
  'SECRET-AUTH-789',
  'SECRET-MULTI-LINE',
  'PEMLINE0SECRET',
  'SECRET-JSON-NESTED',
  'sk-or-v1-SECRETKEY',
] as const;

export function expectNoSecret(text: string): void {
  for (const value of SECRET_VALUES) expect(text).not.toContain(value);
  // Fragments too: a key name made of part of a value would still leak it.
  expect(text).not.toMatch(/SECRET-|PEMLINE|sk-or-v1/);
}

export const ENV_PATH = '/var/lib/hermes/.hermes/.env';
export const AUTH_PATH = '/var/lib/hermes/.hermes/auth.json';
export const CONFIG_PATH = '/var/lib/hermes/.hermes/config.yaml';

export const envBefore = new Secret(
  [
    '# managed by hermes-fleet',
    "OPENROUTER_API_KEY='SECRET-OLD-456'",
    "REMOVED_KEY='SECRET-VALUE-123'",
    "LOG_LEVEL='info'",
    "SAME_KEY='SECRET-VALUE-123'",
  ].join('\n') + '\n',
  'host .env',
);

export const envAfter = new Secret(
  [
    '# managed by hermes-fleet',
    "OPENROUTER_API_KEY='sk-or-v1-SECRETKEY'",
    "LOG_LEVEL='debug'",
    "SAME_KEY='SECRET-VALUE-123'",
    // A value holding newlines and other key names, as the encoder writes it.
    'NEW_KEY="SECRET-MULTI-LINE\\nOPENROUTER_API_KEY=SECRET-VALUE-123\\nLOG_LEVEL=x"',
  ].join('\n') + '\n',
  'inventory',
);

export function envChange(before: PathFact = file(envBefore, HERMES_750)): Change {
  return {
    kind: 'file',
    path: ENV_PATH,
    body: { secret: envAfter },
    attrs: { mode: 0o600, user: 'hermes', group: 'hermes' },
    before,
  };
}

export function authChange(): Change {
  return {
    kind: 'file',
    path: AUTH_PATH,
    body: {
      secret: new Secret(
        JSON.stringify({
          active_provider: 'nous',
          providers: { nous: { token: 'SECRET-AUTH-789', nested: 'SECRET-JSON-NESTED' } },
          version: 2,
        }),
        'file auth.json',
      ),
    },
    attrs: { mode: 0o600, user: 'hermes', group: 'hermes' },
    before: file(
      new Secret(
        JSON.stringify({
          active_provider: 'nous',
          providers: { nous: { token: 'SECRET-OLD-456' } },
          legacy: 'SECRET-VALUE-123',
        }),
        'host auth.json',
      ),
      { mode: 0o644, user: 'root', group: 'root' },
    ),
  };
}

export function configChange(
  before: PathFact = file('model:\n  default: old\nkeep: 1\n', {
    mode: 0o600,
    user: 'hermes',
    group: 'hermes',
  }),
): Change {
  return {
    kind: 'file',
    path: CONFIG_PATH,
    body: { text: 'model:\n  default: new\nkeep: 1\n' },
    attrs: { mode: 0o640, user: 'hermes', group: 'hermes' },
    before,
  };
}

const noStats = { roundTrips: 3, channels: 1, connections: 1 };

function task(
  task: TaskResult['task'],
  status: TaskResult['status'],
  changes: Change[] = [],
  message?: string,
): TaskResult {
  return { task, status, durationMs: 120, changes, ...(message !== undefined ? { message } : {}) };
}

export function changedHost(name = 'web01'): HostResult {
  return {
    host: name,
    status: 'changed',
    durationMs: 1234,
    stats: noStats,
    tasks: [
      task('users', 'changed', [
        { kind: 'group-create', name: 'hermes' },
        {
          kind: 'user-create',
          name: 'hermes',
          group: 'hermes',
          home: '/var/lib/hermes',
          shell: '/bin/bash',
        },
      ]),
      task('dirs', 'changed', [
        { kind: 'dir', path: '/var/lib/hermes', attrs: HERMES_750, before: ABSENT },
      ]),
      task('merge', 'changed', [configChange()]),
      task('secrets', 'changed', [envChange(), authChange()]),
      task('docs', 'ok'),
      task('service', 'changed', [
        {
          kind: 'systemd',
          action: 'restart',
          unit: 'hermes-agent.service',
          reason: 'config.yaml changed',
        },
        { kind: 'wait-healthy', unit: 'hermes-agent.service', seconds: 3, user: 'hermes' },
      ]),
    ],
  };
}

export function okHost(name = 'web02'): HostResult {
  return {
    host: name,
    status: 'ok',
    durationMs: 800,
    stats: noStats,
    tasks: (['users', 'dirs', 'merge', 'secrets', 'docs', 'service'] as const).map((t) =>
      task(t, 'ok'),
    ),
  };
}

export function failedHost(
  name = 'web03',
  message = 'hermes-agent.service did not stay active\nlast log: boom',
): HostResult {
  return {
    host: name,
    status: 'failed',
    durationMs: 2100,
    stats: noStats,
    failedTask: 'service',
    message,
    tasks: [
      task('users', 'ok'),
      task('dirs', 'ok'),
      task('merge', 'ok'),
      task('secrets', 'ok'),
      task('docs', 'skipped', [], 'no documents'),
      task('service', 'failed', [], message),
    ],
  };
}

export function unreachableHost(name = 'web04'): HostResult {
  return {
    host: name,
    status: 'unreachable',
    durationMs: 5000,
    stats: { roundTrips: 0, channels: 0, connections: 1 },
    message: 'connect ETIMEDOUT 10.0.0.4:22',
    tasks: [],
  };
}

export function skippedHost(name = 'web05'): HostResult {
  return {
    host: name,
    status: 'skipped',
    durationMs: 0,
    stats: { roundTrips: 0, channels: 0, connections: 0 },
    tasks: [],
    message: 'not started: interrupted',
  };
}

export function sampleRun(mode: RunResult['mode'] = 'run'): RunResult {
  return {
    mode,
    hosts: [changedHost(), okHost(), failedHost(), unreachableHost(), skippedHost()],
    durationMs: 6100,
    interrupted: false,
    exitCode: 2,
  };
}

/** Feeds a run's results to an observer in the order the runner would, one host after another. */
export function replay(observer: RunObserver, result: RunResult): void {
  for (const host of result.hosts) {
    if (host.status === 'skipped') {
      observer.hostFinished?.(host);
      continue;
    }
    observer.hostStarted?.(host.host);
    observer.hostPhase?.(host.host, 'connecting');
    if (host.status !== 'unreachable') observer.hostPhase?.(host.host, 'reading facts');
    for (const task of host.tasks) {
      observer.taskStarted?.(host.host, task.task);
      observer.detail?.(host.host, 1, `${task.task}: 2 commands in 0.05s`);
      observer.detail?.(host.host, 2, `$ stat -c %a ${task.task}`);
      observer.taskFinished?.(host.host, task);
    }
    observer.hostFinished?.(host);
  }
}
