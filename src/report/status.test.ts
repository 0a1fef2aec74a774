import { describe, expect, it } from 'vitest';
import type { HostFacts, UnitFact } from '../facts/types.js';
import { Secret } from '../secret.js';
import { converge, freshFacts, planAll, UNIT_RUNNING } from '../../test/utils/facts.js';
import { makeHost } from '../../test/utils/host.js';
import { UNIT_NAME } from '../../tasks/lib/layout.js';
import {
  serviceState,
  statusExitCode,
  statusFactRequests,
  statusFromRead,
  versionOf,
  type HostStatusEntry,
} from './status.js';
import type { ReadAndPlanOutcome } from '../runner/read-and-plan.js';

const BIN = '/opt/hermes/bin/hermes';
const stats = { roundTrips: 1, channels: 1, connections: 1 };

function withVersion(facts: HostFacts, output = 'hermes-agent 1.2.3\n'): HostFacts {
  return { ...facts, versions: new Map([[BIN, { kind: 'ran', exitCode: 0, output }]]) };
}

function planned(host: ReturnType<typeof makeHost>, facts: HostFacts): ReadAndPlanOutcome {
  return { ok: true, facts: { ...facts, uid: 0 }, plans: planAll(host, facts) };
}

describe('statusFromRead (the same plan as a check)', () => {
  const host = makeHost({
    settings: { model: 'a' },
    secrets: { API_KEY: new Secret('sk-very-secret', 'test') },
  });
  const synced = withVersion(converge(host, freshFacts(host)));

  it('is ok when every task plans nothing and the unit runs', () => {
    const entry = statusFromRead(host, planned(host, synced), stats, 5);
    expect(entry).toMatchObject({
      host: 'web1',
      status: 'ok',
      reachable: true,
      config: 'in-sync',
      drift: [],
      version: 'hermes-agent 1.2.3',
      service: { activeState: 'active', subState: 'running' },
    });
  });

  it('lists the drifted tasks with one line per change, never a secret', () => {
    const edited = makeHost({
      settings: { model: 'b' },
      secrets: { API_KEY: new Secret('sk-other-secret', 'test') },
    });
    const entry = statusFromRead(edited, planned(edited, synced), stats, 5);
    expect(entry.status).toBe('drift');
    expect(entry.config).toBe('drift');
    expect(entry.drift.map((d) => d.task)).toEqual(['merge', 'secrets', 'service']);
    expect(entry.drift.find((d) => d.task === 'service')?.changes.join('\n')).toMatch(/restart/);
    expect(JSON.stringify(entry)).not.toMatch(/sk-(very|other)-secret/);
  });

  it('says a stopped unit is not running (and a check would start it)', () => {
    const stopped: UnitFact = {
      ...UNIT_RUNNING,
      activeState: 'inactive',
      subState: 'dead',
      mainPid: 0,
      stateChangeTimestampUs: Date.UTC(2026, 0, 2, 3, 4, 5) * 1000,
    };
    const facts = { ...synced, units: new Map([[UNIT_NAME, stopped]]) };
    const entry = statusFromRead(host, planned(host, facts), stats, 5);
    expect(entry.status).toBe('not-running');
    expect(entry.service).toMatchObject({
      activeState: 'inactive',
      since: '2026-01-02T03:04:05.000Z',
    });
    expect(entry.drift.map((d) => d.task)).toEqual(['service']);
  });

  it('keeps what was read when the plan fails, and says why', () => {
    const read: ReadAndPlanOutcome = {
      ok: false,
      status: 'failed',
      message: '/opt/hermes/bin/hermes does not exist',
      tasks: [],
      failedTask: 'service',
      facts: { ...synced, uid: 0 },
    };
    const entry = statusFromRead(host, read, stats, 5);
    expect(entry).toMatchObject({
      status: 'failed',
      reachable: true,
      config: 'unknown',
      message: 'service: /opt/hermes/bin/hermes does not exist',
      service: { activeState: 'active' },
    });
  });

  it('is unreachable when the connection dropped during the read', () => {
    const read: ReadAndPlanOutcome = {
      ok: false,
      status: 'unreachable',
      message: 'connection lost',
      tasks: [],
    };
    expect(statusFromRead(host, read, stats, 5)).toMatchObject({
      status: 'unreachable',
      reachable: false,
      service: null,
      version: null,
    });
  });
});

describe('serviceState', () => {
  it('dates an active unit from when it became active, others from their last change', () => {
    const at = (s: number) => Date.UTC(2026, 0, 1, 0, 0, s) * 1000;
    const active = {
      ...UNIT_RUNNING,
      activeEnterTimestampUs: at(1),
      stateChangeTimestampUs: at(9),
    };
    expect(serviceState(active).since).toBe('2026-01-01T00:00:01.000Z');
    const failed = { ...active, activeState: 'failed', subState: 'failed' };
    expect(serviceState(failed).since).toBe('2026-01-01T00:00:09.000Z');
    expect(serviceState({ ...failed, stateChangeTimestampUs: 0 }).since).toBeNull();
  });
});

describe('versionOf', () => {
  it('takes the first line, and says why there is none', () => {
    expect(versionOf(BIN, { kind: 'ran', exitCode: 0, output: '\nhermes 2.0\nmore\n' })).toEqual({
      version: 'hermes 2.0',
    });
    expect(versionOf(BIN, { kind: 'absent' })).toEqual({
      version: null,
      versionError: `${BIN} does not exist`,
    });
    expect(versionOf(BIN, { kind: 'ran', exitCode: 2, output: 'usage\n' }).versionError).toBe(
      `${BIN} --version exited with 2: usage`,
    );
    expect(versionOf(BIN, { kind: 'ran', exitCode: 124, output: '' }).versionError).toMatch(
      /within 5 s/,
    );
    expect(versionOf(BIN, { kind: 'ran', exitCode: 0, output: 'v1 \u001b[31mred' }).version).toBe(
      'v1 \\x1b[31mred',
    );
    expect(versionOf(BIN, { kind: 'no-user', user: 'hermes' })).toEqual({
      version: null,
      versionError: `user hermes does not exist, so ${BIN} --version was not run`,
    });
  });
});

describe('statusFactRequests', () => {
  it('asks for the version as the service user, never as root', () => {
    const host = makeHost({ user: 'agent', package: '/srv/hermes' });
    expect(statusFactRequests(host)).toEqual([
      { kind: 'version', path: '/srv/hermes/bin/hermes', user: 'agent' },
      { kind: 'lock', path: '/var/lib/hermes-fleet/lock' },
    ]);
  });
});

describe('statusExitCode', () => {
  const entry = (status: HostStatusEntry['status']) => ({ status }) as HostStatusEntry;
  it('is 2 for a failed read, then 4 unreachable, then 3 drift or not running, else 0', () => {
    expect(statusExitCode([entry('ok'), entry('ok')])).toBe(0);
    expect(statusExitCode([])).toBe(0);
    expect(statusExitCode([entry('ok'), entry('drift')])).toBe(3);
    expect(statusExitCode([entry('not-running')])).toBe(3);
    expect(statusExitCode([entry('drift'), entry('unreachable')])).toBe(4);
    expect(statusExitCode([entry('unreachable'), entry('failed')])).toBe(2);
  });
});
