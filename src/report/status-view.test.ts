import { describe, expect, it } from 'vitest';
import type { HostStatusEntry } from './status.js';
import { ago, formatStatusTable, toStatusReport } from './status-view.js';

const stats = { roundTrips: 1, channels: 1, connections: 1 };
const service = {
  loadState: 'loaded',
  activeState: 'active',
  subState: 'running',
  unitFileState: 'enabled',
  since: '2026-01-01T10:00:00.000Z',
};

const entries: HostStatusEntry[] = [
  {
    host: 'web1',
    status: 'ok',
    reachable: true,
    release: null,
    service,
    version: 'hermes-agent 1.2.3',
    generation: 4,
    lock: null,
    config: 'in-sync',
    drift: [],
    durationMs: 10,
    stats,
  },
  {
    host: 'web2',
    status: 'not-running',
    reachable: true,
    release: null,
    service: { ...service, activeState: 'inactive', subState: 'dead' },
    version: 'hermes-agent 1.2.3',
    generation: null,
    lock: null,
    config: 'drift',
    drift: [
      { task: 'merge', changes: ['update config.yaml'] },
      { task: 'service', changes: ['start hermes-agent.service'] },
    ],
    durationMs: 10,
    stats,
  },
  {
    host: 'web3\u001b[2J',
    status: 'unreachable',
    reachable: false,
    release: null,
    service: null,
    version: null,
    generation: null,
    lock: null,
    config: 'unknown',
    drift: [],
    message: 'connect ECONNREFUSED\nsecond line',
    durationMs: 10,
    stats: { roundTrips: 0, channels: 0, connections: 0 },
  },
];

describe('formatStatusTable', () => {
  const now = new Date('2026-01-01T10:05:00Z');

  it('shows RELEASE when some host is deployed from a release archive', () => {
    const [first] = entries;
    const text = formatStatusTable(
      [{ ...(first as HostStatusEntry), release: '3f2a9c0b1d4e5f60' }],
      {
        color: false,
        now,
      },
    );
    expect(text.split('\n').slice(0, 2)).toEqual([
      'HOST  REACHABLE  SERVICE           SINCE                          RELEASE           VERSION             GEN  CONFIG',
      'web1  yes        active (running)  2026-01-01 10:00:00Z (5m ago)  3f2a9c0b1d4e5f60  hermes-agent 1.2.3  4    in sync',
    ]);
  });

  it('prints one aligned row per host and the problems under the table, no escape codes', () => {
    const text = formatStatusTable(entries, { color: false, now });
    expect(text).toBe(
      [
        'HOST         REACHABLE  SERVICE           SINCE                          VERSION             GEN  CONFIG',
        'web1         yes        active (running)  2026-01-01 10:00:00Z (5m ago)  hermes-agent 1.2.3  4    in sync',
        'web2         yes        inactive (dead)   2026-01-01 10:00:00Z (5m ago)  hermes-agent 1.2.3  -    drift: merge, service',
        'web3\\x1b[2J  no         -                 -                              -                   -    unknown',
        '',
        'web3\\x1b[2J: unreachable: connect ECONNREFUSED',
        '    second line',
        '',
      ].join('\n'),
    );
  });

  it('shows LOCK when some host is locked, and who holds it under the table', () => {
    const [first] = entries;
    const lock = {
      state: 'held' as const,
      holder: 'ci@runner (hermes-fleet run, pid 42) since 2026-01-01T10:04:50Z (10 s ago)',
      who: 'ci@runner',
      command: 'hermes-fleet run',
      pid: 42,
      since: '2026-01-01T10:04:50Z',
    };
    const text = formatStatusTable([{ ...(first as HostStatusEntry), lock }], {
      color: false,
      now,
    });
    expect(text.split('\n')).toEqual([
      'HOST  REACHABLE  SERVICE           SINCE                          VERSION             GEN  LOCK           CONFIG',
      'web1  yes        active (running)  2026-01-01 10:00:00Z (5m ago)  hermes-agent 1.2.3  4    ci@runner run  in sync',
      '',
      'web1: locked by ci@runner (hermes-fleet run, pid 42) since 2026-01-01T10:04:50Z (10 s ago)',
      '',
    ]);
    const report = toStatusReport([{ ...(first as HostStatusEntry), lock }], {
      checkedAt: now,
      durationMs: 1,
      exitCode: 0,
    });
    expect(report.hosts[0]?.lock).toEqual(lock);
  });

  it('colours only when asked', () => {
    expect(formatStatusTable(entries, { color: true, now })).toContain('\u001b[');
  });
});

describe('toStatusReport', () => {
  it('is one document with the exit code and each host', () => {
    const report = toStatusReport(entries, {
      checkedAt: new Date('2026-01-01T10:05:00Z'),
      durationMs: 12,
      exitCode: 4,
    });
    expect(report).toMatchObject({ version: 1, command: 'status', exitCode: 4 });
    expect(report.hosts.map((h) => h.status)).toEqual(['ok', 'not-running', 'unreachable']);
    expect(report.hosts[1]?.drift.map((d) => d.task)).toEqual(['merge', 'service']);
  });
});

describe('ago', () => {
  it('uses the largest whole unit', () => {
    expect(ago(0, 59_000)).toBe('59s ago');
    expect(ago(0, 3_600_000)).toBe('1h ago');
    expect(ago(0, 3 * 86_400_000)).toBe('3d ago');
    expect(ago(10_000, 0)).toBe('0s ago');
  });
});
