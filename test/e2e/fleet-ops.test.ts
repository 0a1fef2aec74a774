// Issue: running a real fleet. Six clean Debian hosts, the real CLI over real SSH: rolling
// deploys that stop at a broken health check, health failures that show the unit's log, a
// read-only `status`, stable shards for a CI matrix, and the audit log.
import { TASK_NAMES } from '../../tasks/index.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { JsonReport } from '../../src/report/json-schema.js';
import type { StatusReport } from '../../src/report/status-view.js';
import {
  FLEET_NET,
  bootFleet,
  describeFleet,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { MANAGED_PATHS, runCli, snapshot } from './cli.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const HOSTS = 6;
const ALL = [1, 2, 3, 4, 5, 6];
const CONFIG = '/var/lib/hermes/.hermes/config.yaml';

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function statusOf(r: JsonReport): Record<string, string> {
  return Object.fromEntries(r.hosts.map((h) => [h.host, h.status]));
}

function recapLine(stdout: string, host: string): string {
  return stdout.split('\n').find((l) => l.startsWith(`${host} `)) ?? '';
}

describeFleet('running a real fleet: rolling deploys, health, status, shards, log', () => {
  let fleet: Fleet;
  const secretValue = 'sk-fleet-ops-SECRET-0123456789';
  const env = (value = secretValue) => ({ E2E_FLEET_OPS_KEY: value });
  const settings = {
    hermes: {
      settings: { model: 'anthropic/claude-sonnet-4' },
      secrets: { API_KEY: { env: 'E2E_FLEET_OPS_KEY' } },
    },
  };
  let good: string;
  let broken: string;

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    good = writeFleetInventory(HOSTS, { all: { vars: settings } });
    // The same fleet, but host3's health check can never pass.
    broken = writeFleetInventory(HOSTS, {
      all: {
        vars: settings,
        hosts: { host3: { hermes: { healthCheck: { command: 'false' } } } },
      },
    });
  });

  /** Nothing of hermes on the host: no account, no state directory, no unit. */
  async function expectUntouched(i: number): Promise<void> {
    const probe = await fleet.ssh(
      i,
      `getent passwd hermes; getent group hermes; ls -d /var/lib/hermes /etc/systemd/system/${UNIT} 2>/dev/null; true`,
    );
    expect(probe.stdout.trim(), `host${i}`).toBe('');
    expect((await fleet.unit(i, UNIT)).load).toBe('not-found');
  }

  it('--serial 2: hosts 1-2 converge, the batch with host 3 fails, hosts 5-6 are not started', async () => {
    const result = await runCli(['run', '-i', broken, '--serial', '2', '--json'], { env: env() });
    expect(result.code, result.all).toBe(2);
    const r = report(result.stdout);
    expect(statusOf(r)).toEqual({
      host1: 'changed',
      host2: 'changed',
      host3: 'failed',
      host4: 'changed',
      host5: 'skipped',
      host6: 'skipped',
    });
    const host3 = r.hosts.find((h) => h.host === 'host3');
    expect(host3?.failedTask).toBe('service');
    // The failed health check, with the unit's last journal lines.
    expect(host3?.message).toMatch(/^health check command failed as hermes \(exit 1\)\n/);
    expect(host3?.message).toMatch(/--- last log lines ---\n.*hermes-agent/);
    for (const host of ['host5', 'host6']) {
      expect(r.recap[host]).toEqual({
        ok: 0,
        changed: 0,
        unreachable: 0,
        failed: 0,
        skipped: TASK_NAMES.length,
      });
      expect(r.hosts.find((h) => h.host === host)?.message).toBe(
        'not started: the rollout stopped after 1 of 4 hosts failed',
      );
    }

    for (const i of [1, 2, 4]) {
      expect(await fleet.unit(i, UNIT), `host${i}`).toMatchObject({ active: 'active' });
      expect((await fleet.standinRecord(i))?.user).toBe('hermes');
    }
    await expectUntouched(5);
    await expectUntouched(6);
    // The second batch started only when the first was done (its health waits included).
    const started = async (i: number) =>
      Date.parse((await fleet.standinRecord(i))?.started_at ?? '');
    const firstBatchDone = Math.max(await started(1), await started(2));
    expect(await started(3)).toBeGreaterThan(firstBatchDone);
    expect(await started(4)).toBeGreaterThan(firstBatchDone);
    expect(result.all).not.toContain(secretValue);
  });

  it('--max-fail-percentage 20: 1 failed of 4 is too many; the recap shows hosts 5-6 skipped', async () => {
    const result = await runCli(
      [
        'run',
        '-i',
        broken,
        '--serial',
        '2',
        '--max-fail-percentage',
        '20',
        '-e',
        'hermes.settings.rollout=2',
      ],
      { env: env() },
    );
    expect(result.code, result.all).toBe(2);
    expect(recapLine(result.stdout, 'host3')).toMatch(/failed=1 /);
    for (const host of ['host5', 'host6']) {
      expect(recapLine(result.stdout, host)).toMatch(
        new RegExp(
          `^host\\d\\s+: ok=0\\s+changed=0\\s+unreachable=0\\s+failed=0\\s+skipped=${TASK_NAMES.length}$`,
        ),
      );
    }
    expect(result.stdout).toContain('[host5] skipped: not started: the rollout stopped');
    await expectUntouched(5);
    await expectUntouched(6);
  });

  it('--max-fail-percentage 30: 1 failed of 4 is allowed, the rollout goes on to hosts 5-6', async () => {
    const result = await runCli(
      [
        'run',
        '-i',
        broken,
        '--serial',
        '2',
        '--max-fail-percentage',
        '30',
        '-e',
        'hermes.settings.rollout=3',
        '--json',
      ],
      { env: env() },
    );
    expect(result.code, result.all).toBe(2);
    expect(statusOf(report(result.stdout))).toEqual({
      host1: 'changed',
      host2: 'changed',
      host3: 'failed',
      host4: 'changed',
      host5: 'changed',
      host6: 'changed',
    });
    for (const i of [5, 6]) {
      expect(await fleet.unit(i, UNIT)).toMatchObject({ active: 'active', enabled: 'enabled' });
    }
  });

  it('fails a host whose service does not stay up, with the unit state and its last log lines', async () => {
    const result = await runCli(
      [
        'run',
        '-i',
        good,
        '-l',
        'host4',
        '-e',
        'hermes.environment.HERMES_STANDIN_FAIL="1"',
        '--json',
      ],
      { env: env() },
    );
    expect(result.code, result.all).toBe(2);
    const host4 = report(result.stdout).hosts[0];
    expect(host4).toMatchObject({ host: 'host4', status: 'failed', failedTask: 'service' });
    // host4 had a gateway before this run: it is put back on it (rollback.test.ts has the rest).
    expect(host4?.message).toMatch(
      /^rolled back to generation \d+: hermes-agent\.service is \S+.*, not active\n--- last log lines ---\n/,
    );
    expect(host4?.message).toContain('HERMES_STANDIN_FAIL=1 in .env: failing on purpose');

    // Without the variable the service comes back, and the host passes its health check.
    const fixed = await runCli(['run', '-i', good, '-l', 'host4'], { env: env() });
    expect(fixed.code, fixed.all).toBe(0);
    expect(await fleet.unit(4, UNIT)).toMatchObject({ active: 'active' });
  });

  it('status: a stopped service and a drifted host, read in one round trip each, nothing changed', async () => {
    const converge = await runCli(['run', '-i', good], { env: env() });
    expect(converge.code, converge.all).toBe(0);
    const clean = await runCli(['status', '-i', good, '--json'], { env: env() });
    expect(clean.code, clean.all).toBe(0);
    const cleanReport = JSON.parse(clean.stdout) as StatusReport;
    expect(cleanReport.hosts.map((h) => [h.host, h.status, h.config])).toEqual(
      ALL.map((i) => [`host${i}`, 'ok', 'in-sync']),
    );
    for (const h of cleanReport.hosts) {
      expect(h).toMatchObject({
        reachable: true,
        version: 'hermes-agent 0.0.0-standin',
        service: { activeState: 'active', subState: 'running', unitFileState: 'enabled' },
        stats: { connections: 1, roundTrips: 1 },
      });
      expect(Date.parse(h.service?.since ?? '')).toBeGreaterThan(Date.now() - 15 * 60_000);
    }

    // A person stops the service on host1 and edits a managed key on host2.
    const stoppedAt = Math.floor(Date.now() / 1000) * 1000;
    await fleet.ssh(1, `systemctl stop ${UNIT}`);
    await fleet.ssh(2, `sed -i 's/^model: .*/model: edited-by-hand/' ${CONFIG}`);
    const before = await Promise.all(ALL.map((i) => snapshot(fleet, i, MANAGED_PATHS)));
    const unitsBefore = await Promise.all(ALL.map((i) => fleet.unit(i, UNIT)));

    const result = await runCli(['status', '-i', good, '--json'], { env: env() });
    expect(result.code, result.all).toBe(3);
    const r = JSON.parse(result.stdout) as StatusReport;
    expect(r.exitCode).toBe(3);
    const byHost = new Map(r.hosts.map((h) => [h.host, h]));
    expect(byHost.get('host1')).toMatchObject({
      status: 'not-running',
      reachable: true,
      service: { activeState: 'inactive', subState: 'dead' },
      config: 'drift',
    });
    expect(byHost.get('host1')?.drift.map((d) => d.task)).toEqual(['service']);
    expect(byHost.get('host1')?.drift[0]?.changes.join('\n')).toMatch(/start hermes-agent/);
    // Since when: the stop, not the last start.
    expect(Date.parse(byHost.get('host1')?.service?.since ?? '')).toBeGreaterThanOrEqual(stoppedAt);
    expect(byHost.get('host2')).toMatchObject({
      status: 'drift',
      service: { activeState: 'active' },
      config: 'drift',
    });
    expect(byHost.get('host2')?.drift.map((d) => d.task)).toContain('merge');
    for (const i of [3, 4, 5, 6]) {
      expect(byHost.get(`host${i}`)).toMatchObject({ status: 'ok', config: 'in-sync' });
    }
    for (const h of r.hosts) expect(h.stats).toMatchObject({ connections: 1, roundTrips: 1 });
    expect(result.all).not.toContain(secretValue);

    // The table, as a person or a CI log sees it.
    const table = await runCli(['status', '-i', good, '-l', 'host1:host2:host3'], { env: env() });
    expect(table.code).toBe(3);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^HOST\s+REACHABLE\s+SERVICE\s+SINCE\s+VERSION\s+GEN\s+CONFIG$/);
    expect(lines[1]).toMatch(
      /^host1\s+yes\s+inactive \(dead\)\s+\S+ \S+Z \(.+ ago\)\s+hermes-agent 0\.0\.0-standin\s+\d+\s+drift: service$/,
    );
    expect(lines[2]).toMatch(/^host2\s+yes\s+active \(running\)\s+.*drift: merge, service$/);
    expect(lines[3]).toMatch(/^host3\s+yes\s+active \(running\)\s+.*in sync$/);
    expect(table.stdout).not.toContain('\u001b');

    // Read-only: not a file rewritten, not a unit touched.
    const after = await Promise.all(ALL.map((i) => snapshot(fleet, i, MANAGED_PATHS)));
    expect(after).toEqual(before);
    expect(await Promise.all(ALL.map((i) => fleet.unit(i, UNIT)))).toEqual(unitsBefore);
    expect(await fleet.read(2, CONFIG)).toContain('model: edited-by-hand');
  });

  it('status: an unreachable host is exit 4, the others are still reported', async () => {
    const withGhost = join(dirname(good), 'ghost.yaml');
    const doc = parse(readFileSync(good, 'utf8')) as {
      all: { vars: { ssh: Record<string, unknown> }; hosts: Record<string, unknown> };
    };
    doc.all.vars.ssh.connectTimeout = 3;
    doc.all.hosts = {
      host4: { ssh: { host: fleet.hostAddress(4) } },
      ghost: { ssh: { host: `127.0.${FLEET_NET}.250` } },
    };
    writeFileSync(withGhost, stringify(doc));
    const result = await runCli(['status', '-i', withGhost, '--json'], { env: env() });
    expect(result.code, result.all).toBe(4);
    const r = JSON.parse(result.stdout) as StatusReport;
    expect(r.hosts.find((h) => h.host === 'ghost')).toMatchObject({
      status: 'unreachable',
      reachable: false,
      service: null,
      config: 'unknown',
    });
    expect(r.hosts.find((h) => h.host === 'host4')).toMatchObject({ status: 'ok' });

    // Back in sync for what follows.
    const converge = await runCli(['run', '-i', good], { env: env() });
    expect(converge.code, converge.all).toBe(0);
  });

  it('--shard 1/3, 2/3, 3/3 cover every host once; adding a host moves no other', async () => {
    const shardHosts = async (inventory: string): Promise<string[][]> => {
      const shards: string[][] = [];
      for (const i of [1, 2, 3]) {
        const result = await runCli(
          ['run', '-i', inventory, '--check', '--json', '--shard', `${i}/3`],
          { env: env() },
        );
        expect(result.code, result.all).toBe(0);
        shards.push(
          report(result.stdout)
            .hosts.map((h) => h.host)
            .sort(),
        );
      }
      return shards;
    };
    const before = await shardHosts(good);
    expect(before.flat().sort()).toEqual(ALL.map((i) => `host${i}`));

    // The same hosts in the opposite order, and a newcomer first in the file (another name for
    // host1's address, so it is reachable and in sync).
    const grown = join(dirname(good), 'grown.yaml');
    const doc = parse(readFileSync(good, 'utf8')) as { all: { hosts: Record<string, unknown> } };
    doc.all.hosts = Object.fromEntries([
      ['newcomer', { ssh: { host: fleet.hostAddress(1) } }],
      ...Object.entries(doc.all.hosts).reverse(),
    ]);
    writeFileSync(grown, stringify(doc));
    const after = await shardHosts(grown);
    expect(after.map((s) => s.filter((h) => h !== 'newcomer'))).toEqual(before);
    expect(after.flat().filter((h) => h === 'newcomer')).toHaveLength(1);
  });

  it('--log FILE: JSON lines per host and task, with changes and no secret value', async () => {
    const log = join(dirname(good), 'audit.jsonl');
    const rotated = 'sk-fleet-ops-ROTATED-9876543210';
    const first = await runCli(['run', '-i', good, '-l', 'host6', '--log', log], {
      env: env(rotated),
    });
    expect(first.code, first.all).toBe(0);
    const second = await runCli(['run', '-i', good, '-l', 'host6', '--log', log], {
      env: env(rotated),
    });
    expect(second.code, second.all).toBe(0);

    const text = readFileSync(log, 'utf8');
    expect(text).not.toContain(rotated);
    expect(text).not.toContain(secretValue);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2 * TASK_NAMES.length); // every task, two runs: the file is appended to
    for (const line of lines) {
      expect(line).toMatchObject({ host: 'host6', mode: 'run' });
      expect(typeof line.task).toBe('string');
      expect(['ok', 'changed']).toContain(line.status);
      expect(typeof line.durationMs).toBe('number');
      expect(Array.isArray(line.changes)).toBe(true);
    }
    const secrets = lines[TASK_NAMES.indexOf('secrets')];
    expect(secrets).toMatchObject({
      task: 'secrets',
      status: 'changed',
      changes: [
        // The running gateway's restart is noted before the first file it reads changes.
        { kind: 'restart-pending', path: '/run/hermes-fleet-restart-pending' },
        { kind: 'file', secret: true, keys: { changed: ['API_KEY'] } },
      ],
    });
    const service = TASK_NAMES.indexOf('service');
    expect(lines[service]).toMatchObject({ task: 'service', status: 'changed' });
    // The second run: nothing to do.
    expect(lines.slice(TASK_NAMES.length).every((l) => l.status === 'ok')).toBe(true);
  });
});
