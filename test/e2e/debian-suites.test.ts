// The claim "runs on Debian 11, 12 and 13", tested: one bullseye, one bookworm and one trixie
// host from the test fleet, and the real CLI through a deploy's whole life on each: the first
// deploy (account, directories, a release, the merged config, secrets, documents, the unit
// started by systemd and healthy), a second run that changes nothing, a check, a change that
// restarts, a broken release rolled back, and status. Small on purpose: every other e2e file
// runs on bookworm; this one proves the parts that differ between the suites (systemd, util-linux,
// OpenSSH, coreutils) on the others.
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';
import {
  bootFleet,
  describeFleet,
  sha256Hex,
  writeFleetInventory,
  type DebianSuite,
  type Fleet,
} from '../fleet/fleet.js';
import { MANAGED_DIRS, MANAGED_PATHS, runCli, snapshot } from './cli.js';
import { buildRelease, type BuiltRelease } from './release-archives.js';

// The systemd each suite ships: 247 is the oldest the host programs meet (no
// `systemctl show --timestamp=unix`), 257 the newest.
const SUITES: readonly { host: number; suite: DebianSuite; version: string; systemd: string }[] = [
  { host: 1, suite: 'bookworm', version: '12', systemd: '252' },
  { host: 2, suite: 'bullseye', version: '11', systemd: '247' },
  { host: 3, suite: 'trixie', version: '13', systemd: '257' },
];
const HOSTS = SUITES.length;
const ALL = SUITES.map((s) => s.host);
const ROOT = '/opt/hermes-agent';
const HOME = '/var/lib/hermes/.hermes';

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

interface StatusReport {
  hosts: {
    host: string;
    status: string;
    config: string;
    release?: string;
    version?: string;
    service?: { activeState: string; subState: string; unitFileState: string };
    stats: { roundTrips: number };
  }[];
}

describeFleet('Debian 11, 12 and 13 hosts', () => {
  let fleet: Fleet;
  let v1: BuiltRelease;
  let v2: BuiltRelease;
  const secretValue = 'sk-or-v1-SUITES-e2e-0123456789';
  const env = () => ({ E2E_SUITES_KEY: secretValue });
  const hermes = {
    settings: { model: 'anthropic/claude-sonnet-4', compression: { threshold: 0.8 } },
    environment: { HERMES_LOG_LEVEL: 'info' },
    secrets: { OPENROUTER_API_KEY: { env: 'E2E_SUITES_KEY' } },
    documents: { 'SOUL.md': 'You are a test agent.\n' },
    healthCheck: { seconds: 1 },
  };
  const inventory = (release: BuiltRelease, extra: object = {}) =>
    writeFleetInventory(HOSTS, {
      all: { vars: { hermes: { ...hermes, release: { archive: release.file }, ...extra } } },
    });

  beforeAll(async () => {
    v1 = buildRelease('1.0.0');
    v2 = buildRelease('2.0.0-broken', { broken: true });
    fleet = await bootFleet(HOSTS, { suites: { 2: 'bullseye', 3: 'trixie' } });
  });

  it('boots each host from its own suite, with its own systemd', async () => {
    for (const { host, version, systemd } of SUITES) {
      const os = await fleet.ssh(
        host,
        '. /etc/os-release && echo "$ID $VERSION_ID"; systemctl --version | head -n 1',
      );
      const [release, systemdLine] = os.stdout.trim().split('\n');
      expect(release, `host${host}`).toBe(`debian ${version}`);
      expect(systemdLine, `host${host}`).toMatch(new RegExp(`^systemd ${systemd} `));
    }
  });

  it('a first deploy converges every suite: the gateway started by systemd and healthy', async () => {
    const result = await runCli(['run', '-i', inventory(v1), '--json'], { env: env() });
    expect(result.code, result.all).toBe(0);
    const r = report(result.stdout);
    expect(r.hosts.map((h) => [h.host, h.status])).toEqual(ALL.map((i) => [`host${i}`, 'changed']));
    expect(result.all).not.toContain(secretValue);
    for (const i of ALL) {
      const where = `host${i}`;
      const ids = await fleet.ssh(i, 'getent passwd hermes; getent group hermes');
      expect(ids.stdout, where).toMatch(/^hermes:x:\d+:\d+::\/var\/lib\/hermes:\/bin\/bash$/m);
      for (const dir of MANAGED_DIRS) {
        expect(await fleet.stat(i, dir), `${where} ${dir}`).toMatchObject({
          mode: 0o750,
          user: 'hermes',
          group: 'hermes',
        });
      }
      expect(await fleet.stat(i, `${HOME}/.env`), where).toMatchObject({
        mode: 0o600,
        user: 'hermes',
      });
      expect(await fleet.read(i, '/var/lib/hermes/workspace/SOUL.md')).toBe(
        'You are a test agent.\n',
      );
      expect((await fleet.ssh(i, `readlink ${ROOT}/current`)).stdout.trim(), where).toBe(
        `releases/${v1.id}`,
      );
      expect(await fleet.unit(i, UNIT), where).toMatchObject({
        active: 'active',
        enabled: 'enabled',
        sub: 'running',
      });
      const record = await fleet.standinRecord(i);
      expect(record, where).toMatchObject({
        user: 'hermes',
        hermes_home: HOME,
        hermes_managed: 'true',
        cwd: '/var/lib/hermes/workspace',
      });
      expect(record?.argv[0], where).toBe(
        `${ROOT}/releases/${v1.id}/bin/../lib/stand-in-hermes.py`,
      );
      expect(record?.env.OPENROUTER_API_KEY, where).toBe(sha256Hex(secretValue));
      expect(record?.config, where).toMatchObject({ model: 'anthropic/claude-sonnet-4' });
    }
  });

  it('a second run changes nothing and rewrites nothing: one round trip per host', async () => {
    const before = await Promise.all(ALL.map((i) => snapshot(fleet, i, MANAGED_PATHS)));
    const units = await Promise.all(ALL.map((i) => fleet.unit(i, UNIT)));
    const result = await runCli(['run', '-i', inventory(v1), '--json', '--detailed-exitcode'], {
      env: env(),
    });
    expect(result.code, result.all).toBe(0);
    for (const host of report(result.stdout).hosts) {
      expect(host.status, host.host).toBe('ok');
      expect(
        host.tasks.flatMap((t) => t.changes),
        host.host,
      ).toEqual([]);
      expect(host.stats, host.host).toMatchObject({ connections: 1, roundTrips: 1 });
    }
    expect(await Promise.all(ALL.map((i) => snapshot(fleet, i, MANAGED_PATHS)))).toEqual(before);
    expect(await Promise.all(ALL.map((i) => fleet.unit(i, UNIT)))).toEqual(units);
  });

  it('a check says in sync (0), then predicts a change (3) without making it', async () => {
    const inSync = await runCli(['run', '-i', inventory(v1), '--check', '--detailed-exitcode'], {
      env: env(),
    });
    expect(inSync.code, inSync.all).toBe(0);
    const drift = await runCli(
      [
        'run',
        '-i',
        inventory(v1),
        '--check',
        '--detailed-exitcode',
        '--json',
        '-e',
        'hermes.settings.model=openrouter/other',
      ],
      { env: env() },
    );
    expect(drift.code, drift.all).toBe(3);
    for (const host of report(drift.stdout).hosts) {
      expect(host.status, host.host).toBe('changed');
      expect(host.stats, host.host).toMatchObject({ roundTrips: 1 });
    }
    for (const i of ALL) {
      expect((await fleet.standinRecord(i))?.config.model).toBe('anthropic/claude-sonnet-4');
    }
  });

  it('a changed setting is merged and restarts the gateway once, on every suite', async () => {
    const before = await Promise.all(ALL.map((i) => fleet.unit(i, UNIT)));
    const result = await runCli(
      ['run', '-i', inventory(v1), '--json', '-e', 'hermes.settings.model=openrouter/other'],
      { env: env() },
    );
    expect(result.code, result.all).toBe(0);
    for (const host of report(result.stdout).hosts) {
      const changed = host.tasks.filter((t) => t.status === 'changed').map((t) => t.task);
      expect(changed, host.host).toEqual(['merge', 'service']);
      const service = host.tasks.find((t) => t.task === 'service');
      expect(
        service?.changes.filter((c) => c.action === 'restart'),
        host.host,
      ).toHaveLength(1);
      expect(host.stats, host.host).toMatchObject({ connections: 1, roundTrips: 2 });
    }
    for (const [n, i] of ALL.entries()) {
      const after = await fleet.unit(i, UNIT);
      expect(after.active, `host${i}`).toBe('active');
      expect(after.mainPid, `host${i}`).not.toBe(before[n]?.mainPid);
      expect((await fleet.standinRecord(i))?.config.model).toBe('openrouter/other');
    }
  });

  it('a release whose gateway fails at start-up is rolled back onto the one before', async () => {
    const settings = { ...hermes.settings, model: 'openrouter/other' };
    const result = await runCli(['run', '-i', inventory(v2, { settings }), '--json'], {
      env: env(),
    });
    expect(result.code, result.all).toBe(2);
    for (const host of report(result.stdout).hosts) {
      expect(host, host.host).toMatchObject({ status: 'failed', failedTask: 'service' });
      expect(host.rollback?.outcome, host.host).toBe('rolled-back');
    }
    for (const i of ALL) {
      const where = `host${i}`;
      expect((await fleet.ssh(i, `readlink ${ROOT}/current`)).stdout.trim(), where).toBe(
        `releases/${v1.id}`,
      );
      expect(await fleet.unit(i, UNIT), where).toMatchObject({ active: 'active', sub: 'running' });
      expect((await fleet.standinRecord(i))?.argv[0], where).toBe(
        `${ROOT}/releases/${v1.id}/bin/../lib/stand-in-hermes.py`,
      );
    }
    // Back in sync with the good inventory.
    const check = await runCli(
      ['run', '-i', inventory(v1, { settings }), '--check', '--detailed-exitcode'],
      { env: env() },
    );
    expect(check.code, check.all).toBe(0);
  });

  it('status reads release, version and the unit from systemd on every suite', async () => {
    const settings = { ...hermes.settings, model: 'openrouter/other' };
    const result = await runCli(['status', '-i', inventory(v1, { settings }), '--json'], {
      env: env(),
    });
    expect(result.code, result.all).toBe(0);
    const r = JSON.parse(result.stdout) as StatusReport;
    expect(r.hosts.map((h) => [h.host, h.status, h.config])).toEqual(
      ALL.map((i) => [`host${i}`, 'ok', 'in-sync']),
    );
    for (const h of r.hosts) {
      expect(h, h.host).toMatchObject({
        release: v1.id,
        version: 'hermes-agent 1.0.0',
        service: { activeState: 'active', subState: 'running', unitFileState: 'enabled' },
        stats: { roundTrips: 1 },
      });
    }
  });
});
