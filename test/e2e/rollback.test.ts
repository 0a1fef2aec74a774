// Issue 18: automatic rollback on real hosts. A change whose restart or health check fails puts
// the host back exactly as it was before the run (same bytes, same inodes: the old files
// themselves come back), restarts the gateway onto it and checks it again; the stand-in gateway's
// record says what it read at start-up.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli, snapshot } from './cli.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const HOSTS = 3;
const HOME = '/var/lib/hermes/.hermes';
const WATCHED = [
  `${HOME}/config.yaml`,
  `${HOME}/.env`,
  `${HOME}/.fleet-owned-config.json`,
  '/var/lib/hermes/workspace/SOUL.md',
  '/var/lib/hermes/workspace/NEW.md',
  `/etc/systemd/system/${UNIT}`,
  '/run/hermes-fleet-restart-pending',
];

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function statusOf(r: JsonReport): Record<string, string> {
  return Object.fromEntries(r.hosts.map((h) => [h.host, h.status]));
}

describeFleet('automatic rollback on real hosts', () => {
  let fleet: Fleet;
  let good: string;
  let rejected: string;
  let crashing: string;
  // The health check rejects any config.yaml that names a broken model.
  const healthCheck = { seconds: 1, command: `! grep -q broken ${HOME}/config.yaml` };
  const hermes = {
    settings: { model: 'good/model' },
    environment: { LEVEL: 'info' },
    documents: { 'SOUL.md': 'good soul\n' },
    healthCheck,
  };

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    good = writeFleetInventory(HOSTS, { all: { vars: { hermes } } });
    // A config the health check rejects, a changed document and a new one.
    rejected = writeFleetInventory(HOSTS, {
      all: {
        vars: {
          hermes: {
            ...hermes,
            settings: { model: 'broken/model' },
            documents: { 'SOUL.md': 'bad soul\n', 'NEW.md': 'new\n' },
          },
        },
      },
    });
    // A gateway that exits at start-up, with a new unit file (extraArgs) and a new .env.
    crashing = writeFleetInventory(HOSTS, {
      all: {
        vars: {
          hermes: {
            ...hermes,
            environment: { LEVEL: 'debug', HERMES_STANDIN_FAIL: '1' },
            extraArgs: ['--new-flag'],
          },
        },
      },
    });
  });

  async function currentGeneration(i: number): Promise<number | null> {
    const result = await runCli(['generations', '-i', good, '-l', `host${i}`, '--json']);
    expect(result.code, result.all).toBe(0);
    const doc = JSON.parse(result.stdout) as { hosts: { current: number | null }[] };
    return doc.hosts[0]?.current ?? null;
  }

  async function converge(): Promise<void> {
    const result = await runCli(['run', '-i', good]);
    expect(result.code, result.all).toBe(0);
  }

  it('a first deploy that fails its health check is left as the run made it, and says so', async () => {
    const result = await runCli(['run', '-i', rejected, '-l', 'host1', '--json']);
    expect(result.code, result.all).toBe(2);
    const host = report(result.stdout).hosts[0];
    expect(host?.status).toBe('failed');
    expect(host?.rollback).toMatchObject({
      outcome: 'not-rolled-back',
      reason: 'first-deploy',
      generation: null,
    });
    expect(host?.message).toMatch(/^health check command failed as hermes \(exit 1\)/);
    expect(host?.message).toContain('first deploy: nothing before this run to roll back to');
    expect(await fleet.read(1, `${HOME}/config.yaml`)).toContain('broken/model');
  });

  it('a config the health check rejects is rolled back: same files, gateway restarted onto them', async () => {
    await converge();
    const before = await snapshot(fleet, 2, WATCHED);
    const startedBefore = await fleet.standinRecord(2);
    const junit = `${good}.junit.xml`;
    const log = `${good}.log`;

    const generation = await currentGeneration(2);
    expect(generation).toBeGreaterThan(0);
    const result = await runCli([
      'run',
      '-i',
      rejected,
      '-l',
      'host2',
      '--json',
      '--junit',
      junit,
      '--log',
      log,
    ]);
    expect(result.code, result.all).toBe(2);
    const host = report(result.stdout).hosts[0];
    expect(host).toMatchObject({ host: 'host2', status: 'failed', failedTask: 'service' });
    expect(host?.rollback).toMatchObject({ outcome: 'rolled-back', generation });
    expect(host?.rollback?.cause).toMatch(/^health check command failed as hermes \(exit 1\)/);
    expect(host?.message).toMatch(
      new RegExp(`^rolled back to generation ${generation}: health check command failed as hermes`),
    );
    expect(readFileSync(junit, 'utf8')).toContain(
      `rolled back to generation ${generation}: health check command failed`,
    );
    // The failed state is no generation.
    expect(await currentGeneration(2)).toBe(generation);
    const logLines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { task: string; rollback?: { outcome: string } });
    expect(logLines.find((l) => l.task === 'service')?.rollback?.outcome).toBe('rolled-back');

    // Every file exactly as before: the same inode (the old file itself), mode, owner, bytes;
    // the new document and the pending-restart note gone.
    expect(await snapshot(fleet, 2, WATCHED)).toEqual(before);
    expect(await fleet.read(2, `${HOME}/config.yaml`)).toBe('model: good/model\n');
    const leftovers = await fleet.ssh(
      2,
      `ls -A ${HOME} /var/lib/hermes/workspace | grep hermes-fleet; ls /run | grep hermes-fleet; true`,
    );
    expect(leftovers.stdout).toBe('');
    // The gateway was started again after the rollback and read the old config.
    const after = await fleet.standinRecord(2);
    expect(after?.pid).not.toBe(startedBefore?.pid);
    expect(after?.config_sha256).toBe(startedBefore?.config_sha256);
    expect(after?.config).toEqual({ model: 'good/model' });
    expect(await fleet.unit(2, UNIT)).toMatchObject({ active: 'active' });

    // The host is in sync with the good inventory again: a check finds nothing to do.
    const check = await runCli(['run', '-i', good, '-l', 'host2', '--check', '--json']);
    expect(check.code, check.all).toBe(0);
    expect(statusOf(report(check.stdout))).toEqual({ host2: 'ok' });
  });

  it('a gateway that crashes on a new unit and .env is rolled back: unit reloaded, old argv and env', async () => {
    await converge();
    // A host with no generation (adopted from a hand-made install): the batch's own copy of
    // the state before the run is all the rollback needs.
    await fleet.ssh(3, 'rm -rf /var/lib/hermes-fleet');
    const before = await snapshot(fleet, 3, WATCHED);
    const startedBefore = await fleet.standinRecord(3);
    const result = await runCli(['run', '-i', crashing, '-l', 'host3', '--json']);
    expect(result.code, result.all).toBe(2);
    const host = report(result.stdout).hosts[0];
    expect(host?.rollback).toMatchObject({ outcome: 'rolled-back' });
    expect(host?.message).toMatch(
      /^rolled back to the state before this run: hermes-agent\.service is \S+/,
    );
    expect(await snapshot(fleet, 3, WATCHED)).toEqual(before);
    const reload = await fleet.ssh(3, `systemctl show -p NeedDaemonReload --value ${UNIT}`);
    expect(reload.stdout.trim()).toBe('no');
    const after = await fleet.standinRecord(3);
    expect(after?.pid).not.toBe(startedBefore?.pid);
    expect(after?.args).toEqual(startedBefore?.args);
    expect(after?.env).toEqual(startedBefore?.env);
    expect(await fleet.unit(3, UNIT)).toMatchObject({ active: 'active' });
  });

  it('--no-rollback keeps the failed state and says so', async () => {
    await converge();
    const result = await runCli(['run', '-i', rejected, '-l', 'host2', '--no-rollback', '--json']);
    expect(result.code, result.all).toBe(2);
    const host = report(result.stdout).hosts[0];
    expect(host?.rollback).toMatchObject({ outcome: 'not-rolled-back', reason: 'no-rollback' });
    expect(host?.message).toContain('not rolled back: --no-rollback');
    expect(await fleet.read(2, `${HOME}/config.yaml`)).toBe('model: broken/model\n');
    expect(await fleet.read(2, '/var/lib/hermes/workspace/NEW.md')).toBe('new\n');
  });

  it('--serial 1: the first host is rolled back, counts as failed, and the rollout stops', async () => {
    await converge();
    const before = await Promise.all([1, 2, 3].map((i) => snapshot(fleet, i, WATCHED)));
    const result = await runCli(['run', '-i', rejected, '--serial', '1', '--json']);
    expect(result.code, result.all).toBe(2);
    const r = report(result.stdout);
    expect(statusOf(r)).toEqual({ host1: 'failed', host2: 'skipped', host3: 'skipped' });
    expect(r.hosts[0]?.rollback).toMatchObject({ outcome: 'rolled-back' });
    for (const i of [1, 2, 3]) {
      expect(await snapshot(fleet, i, WATCHED), `host${i}`).toEqual(before[i - 1]);
      expect(await fleet.unit(i, UNIT), `host${i}`).toMatchObject({ active: 'active' });
    }
    expect((await fleet.standinRecord(1))?.config).toEqual({ model: 'good/model' });
  });

  it('records a generation per healthy change, lists them, keeps the newest generations.keep', async () => {
    await converge();
    await fleet.ssh(1, 'rm -rf /var/lib/hermes-fleet');
    for (const n of [1, 2, 3]) {
      const result = await runCli([
        'run',
        '-i',
        good,
        '-l',
        'host1',
        '-e',
        `hermes.settings.n=${n}`,
        '-e',
        'hermes.generations.keep=2',
      ]);
      expect(result.code, result.all).toBe(0);
    }
    // A run that changes nothing records nothing.
    const noop = await runCli(['run', '-i', good, '-l', 'host1', '-e', 'hermes.settings.n=3']);
    expect(noop.code, noop.all).toBe(0);

    const layout = await fleet.ssh(
      1,
      'cd /var/lib/hermes-fleet/generations && ls -A && stat -c "%n %a %U:%G" . 3 3/files 3/files/.env 3/files/config.yaml 3/files/unit 3/files/documents/SOUL.md',
    );
    expect(layout.stdout.split('\n').slice(0, 3)).toEqual(['2', '3', 'current']);
    expect(layout.stdout).toContain('. 700 root:root');
    expect(layout.stdout).toContain('3 700 root:root');
    for (const f of ['.env', 'config.yaml', 'unit', 'documents/SOUL.md']) {
      expect(layout.stdout).toContain(`3/files/${f} 600 root:root`);
    }
    const same = await fleet.ssh(
      1,
      `cmp /var/lib/hermes-fleet/generations/3/files/.env ${HOME}/.env && cmp /var/lib/hermes-fleet/generations/3/files/config.yaml ${HOME}/config.yaml && cmp /var/lib/hermes-fleet/generations/3/files/unit /etc/systemd/system/${UNIT} && echo same`,
    );
    expect(same.stdout.trim()).toBe('same');

    const listed = await runCli(['generations', '-i', good, '-l', 'host1', '--json']);
    expect(listed.code, listed.all).toBe(0);
    const doc = JSON.parse(listed.stdout) as {
      hosts: {
        current: number;
        generations: { number: number; current: boolean; who: string; changed: string[] }[];
      }[];
    };
    const host = doc.hosts[0];
    expect(host?.current).toBe(3);
    expect(host?.generations.map((g) => [g.number, g.current])).toEqual([
      [2, false],
      [3, true],
    ]);
    expect(host?.generations[1]?.changed).toEqual(['config.yaml']);
    expect(host?.generations[1]?.who).toMatch(/^[^@\s]+@\S+$/);

    const human = await runCli(['generations', '-i', good, '-l', 'host1']);
    expect(human.stdout).toMatch(/^\s+\*\s+3\s+\d{4}-\d\d-\d\dT/m);
    const status = await runCli(['status', '-i', good, '-l', 'host1', '--json']);
    expect(
      (JSON.parse(status.stdout) as { hosts: { generation: number }[] }).hosts[0]?.generation,
    ).toBe(3);
  });

  it('rollback --to N puts a generation back, records it; a failed health check undoes the rollback', async () => {
    await converge();
    await fleet.ssh(2, 'rm -rf /var/lib/hermes-fleet');
    const texts: string[] = [];
    for (const n of [1, 2]) {
      const result = await runCli([
        'run',
        '-i',
        good,
        '-l',
        'host2',
        '-e',
        `hermes.settings.n=${n}`,
      ]);
      expect(result.code, result.all).toBe(0);
      texts.push((await fleet.read(2, `${HOME}/config.yaml`)) ?? '');
    }
    expect(texts[0]).toContain('n: 1');
    expect(await currentGeneration(2)).toBe(2);

    const check = await runCli([
      'rollback',
      '-i',
      good,
      '-l',
      'host2',
      '--to',
      '1',
      '--check',
      '-v',
    ]);
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toContain('restore generation 1');
    expect(await fleet.read(2, `${HOME}/config.yaml`)).toBe(texts[1]);

    const back = await runCli(['rollback', '-i', good, '-l', 'host2', '--to', '1', '--json']);
    expect(back.code, back.all).toBe(0);
    expect(statusOf(report(back.stdout))).toEqual({ host2: 'changed' });
    expect(await fleet.read(2, `${HOME}/config.yaml`)).toBe(texts[0]);
    expect((await fleet.standinRecord(2))?.config).toEqual({ model: 'good/model', n: 1 });
    expect(await currentGeneration(2)).toBe(3);
    const leftovers = await fleet.ssh(2, `ls -A ${HOME} | grep hermes-fleet; true`);
    expect(leftovers.stdout).toBe('');
    // The inventory is the truth: a check reports the drift back to it.
    const drift = await runCli([
      'run',
      '-i',
      good,
      '-l',
      'host2',
      '-e',
      'hermes.settings.n=2',
      '--check',
      '--json',
    ]);
    expect(report(drift.stdout).hosts[0]?.tasks.find((t) => t.task === 'merge')?.status).toBe(
      'changed',
    );

    // A generation that is not kept fails the host before anything changes.
    const missing = await runCli(['rollback', '-i', good, '-l', 'host2', '--to', '9']);
    expect(missing.code, missing.all).toBe(2);
    expect(missing.all).toContain('generation 9 is not kept on this host');

    // Generation 2 with a health check that rejects it: back on generation 3, as before.
    const failing = await runCli([
      'rollback',
      '-i',
      good,
      '-l',
      'host2',
      '--to',
      '2',
      '--json',
      '-e',
      `hermes.healthCheck.command=${JSON.stringify(`! grep -q "n: 2" ${HOME}/config.yaml`)}`,
    ]);
    expect(failing.code, failing.all).toBe(2);
    const host = report(failing.stdout).hosts[0];
    expect(host?.rollback).toMatchObject({ outcome: 'rolled-back', generation: 3 });
    expect(host?.message).toMatch(/^rolled back to generation 3: health check command failed/);
    expect(await fleet.read(2, `${HOME}/config.yaml`)).toBe(texts[0]);
    expect(await currentGeneration(2)).toBe(3);
    expect(await fleet.unit(2, UNIT)).toMatchObject({ active: 'active' });
  });
});
