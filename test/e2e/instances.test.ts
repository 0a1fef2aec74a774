// Issue 27: several gateways on one host. Each instance of `instances:` gets its own state
// directory, files, unit, health check, generations and rollback; a change to one restarts that
// one alone, a broken change to one puts back that one alone; and `hermes:` alone stays the
// instance hosts run today: a host deployed before instances existed is a no-op, 0 files
// rewritten. HERMES_FLEET_BASELINE_BIN, when set, is the CLI of the release before (bin/hermes-fleet
// of an older checkout, built) that makes that first deploy; otherwise this build makes it.
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import {
  bootFleet,
  describeFleet,
  sha256Hex,
  writeFleetInventory,
  type Fleet,
  type UnitState,
} from '../fleet/fleet.js';
import { MANAGED_PATHS, runCli, snapshot } from './cli.js';

const LEGACY = 1;
const MULTI = 2;
const IMAGE = 'localhost/hermes-e2e-instances:1';

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

const unitOf = (name: string) => `hermes-agent-${name}.service`;
const stateOf = (name: string) => `/var/lib/hermes-${name}`;

/** The tasks of `host` that changed, as `instance/task`. */
function changedTasks(r: JsonReport, host: string): string[] {
  const h = r.hosts.find((x) => x.host === host);
  return (h?.tasks ?? [])
    .filter((t) => t.status === 'changed')
    .map((t) => `${t.instance ?? ''}/${t.task}`);
}

describeFleet('several instances on one host', () => {
  let fleet: Fleet;
  // Three gateways: two native ones with accounts of their own, one in a podman container.
  const instances = (beta: Record<string, unknown> = {}, alpha: Record<string, unknown> = {}) => ({
    alpha: { settings: { model: 'alpha/model' }, environment: { WHO: 'alpha' }, ...alpha },
    beta: {
      user: 'beta',
      group: 'beta',
      settings: { model: 'beta/model' },
      environment: { WHO: 'beta' },
      documents: { 'SOUL.md': 'beta soul\n' },
      ...beta,
    },
    gamma: {
      user: 'gamma',
      group: 'gamma',
      settings: { model: 'gamma/model' },
      environment: { WHO: 'gamma' },
      container: { enable: true, backend: 'podman', image: IMAGE },
    },
  });
  const shared = {
    healthCheck: { seconds: 1 },
    secrets: { SHARED_TOKEN: { env: 'E2E_SHARED_TOKEN' } },
  };
  const env = { E2E_SHARED_TOKEN: 'token-for-all' };
  const multi = (beta?: Record<string, unknown>, alpha?: Record<string, unknown>) =>
    writeFleetInventory(MULTI, {
      all: {
        vars: { hermes: shared },
        hosts: { [`host${LEGACY}`]: { hermes: { settings: { model: 'legacy' } } } },
        children: {
          multi: { hosts: { [`host${MULTI}`]: { instances: instances(beta, alpha) } } },
        },
      },
    });

  beforeAll(async () => {
    fleet = await bootFleet(MULTI);
    await fleet.importImage(MULTI, IMAGE);
  });

  it('leaves a host that runs hermes: alone exactly as a deploy before instances left it', async () => {
    // Today's inventory, which an older CLI reads too.
    const inventory = writeFleetInventory(LEGACY, {
      all: { vars: { hermes: { ...shared, settings: { model: 'legacy' } } } },
    });
    const baseline = process.env.HERMES_FLEET_BASELINE_BIN;
    const first = await runCli(['run', '-i', inventory, '-l', `host${LEGACY}`], {
      env,
      ...(baseline ? { bin: baseline } : {}),
    });
    expect(first.code, first.all).toBe(0);
    const watched = [
      ...MANAGED_PATHS,
      '/var/lib/hermes-fleet/generations/current',
      '/var/lib/hermes-fleet/generations/1',
    ];
    const before = await snapshot(fleet, LEGACY, watched);
    const unitBefore = await fleet.unit(LEGACY, 'hermes-agent.service');
    const again = await runCli(['run', '-i', inventory, '-l', `host${LEGACY}`, '--json'], { env });
    expect(again.code, again.all).toBe(0);
    const r = report(again.stdout);
    expect(r.hosts[0]?.status).toBe('ok');
    expect(r.hosts[0]?.tasks.every((t) => t.instance === undefined)).toBe(true);
    expect(changedTasks(r, `host${LEGACY}`)).toEqual([]);
    expect(await snapshot(fleet, LEGACY, watched)).toEqual(before);
    const unitAfter = await fleet.unit(LEGACY, 'hermes-agent.service');
    expect(unitAfter.mainPid).toBe(unitBefore.mainPid);
    expect(
      (await fleet.ssh(LEGACY, 'ls /var/lib/hermes-fleet')).stdout.trim().split('\n'),
    ).not.toContain('instances');
  });

  it('deploys three instances, each gateway reading its own files as its own account', async () => {
    const result = await runCli(['run', '-i', multi(), '-l', `host${MULTI}`, '--json'], {
      env,
      timeoutMs: 240_000,
    });
    expect(result.code, result.all).toBe(0);
    const r = report(result.stdout);
    expect(r.hosts[0]?.stats.roundTrips).toBe(2);
    const changed = changedTasks(r, `host${MULTI}`);
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(changed).toContain(`${name}/service`);
      expect(await fleet.unit(MULTI, unitOf(name))).toMatchObject({
        active: 'active',
        enabled: 'enabled',
      });
      const record = await fleet.standinRecord(MULTI, stateOf(name));
      expect(record?.config).toMatchObject({ model: `${name}/model` });
      expect(record?.env.WHO).toBe(sha256Hex(name));
      expect(record?.env.SHARED_TOKEN).toBe(sha256Hex('token-for-all'));
    }
    expect((await fleet.standinRecord(MULTI, stateOf('alpha')))?.user).toBe('hermes');
    expect((await fleet.standinRecord(MULTI, stateOf('beta')))?.user).toBe('beta');
    expect((await fleet.standinRecord(MULTI, stateOf('alpha')))?.hermes_home).toBe(
      `${stateOf('alpha')}/.hermes`,
    );
    // The container's HERMES_HOME is /data/.hermes: gamma's stateDir, mounted.
    expect((await fleet.standinRecord(MULTI, stateOf('gamma')))?.hermes_home).toBe('/data/.hermes');
    expect(await fleet.read(MULTI, `${stateOf('beta')}/workspace/SOUL.md`)).toBe('beta soul\n');
    expect(await fleet.stat(MULTI, `${stateOf('beta')}/.hermes/.env`)).toMatchObject({
      user: 'beta',
      mode: 0o600,
    });
    const containers = await fleet.ssh(MULTI, "podman ps --format '{{.Names}}'");
    expect(containers.stdout.trim()).toBe('hermes-agent-gamma');
    // No unit of hermes: alone on a host that has instances.
    expect(await fleet.stat(MULTI, '/etc/systemd/system/hermes-agent.service')).toBeNull();
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(
        await fleet.read(MULTI, `/var/lib/hermes-fleet/instances/${name}/generations/current`),
      ).toBe('1\n');
    }

    const again = await runCli(['run', '-i', multi(), '-l', `host${MULTI}`, '--json'], { env });
    expect(again.code, again.all).toBe(0);
    expect(changedTasks(report(again.stdout), `host${MULTI}`)).toEqual([]);
    expect(report(again.stdout).hosts[0]?.stats.roundTrips).toBe(1);
  });

  async function units(): Promise<Record<string, UnitState>> {
    const out: Record<string, UnitState> = {};
    for (const name of ['alpha', 'beta', 'gamma'])
      out[name] = await fleet.unit(MULTI, unitOf(name));
    return out;
  }

  it('restarts only the instance whose files changed', async () => {
    const before = await units();
    const result = await runCli(
      ['run', '-i', multi({ settings: { model: 'beta/model-2' } }), '-l', `host${MULTI}`, '--json'],
      { env },
    );
    expect(result.code, result.all).toBe(0);
    expect(changedTasks(report(result.stdout), `host${MULTI}`)).toEqual([
      'beta/merge',
      'beta/service',
    ]);
    const after = await units();
    expect(after.beta?.mainPid).not.toBe(before.beta?.mainPid);
    expect(after.alpha?.mainPid).toBe(before.alpha?.mainPid);
    expect(after.gamma?.mainPid).toBe(before.gamma?.mainPid);
    expect((await fleet.standinRecord(MULTI, stateOf('beta')))?.config).toMatchObject({
      model: 'beta/model-2',
    });
  });

  it('puts back a broken change to one instance alone; the other change of the run stays', async () => {
    const beforeBeta = await fleet.read(MULTI, `${stateOf('beta')}/.hermes/config.yaml`);
    const gammaBefore = await fleet.unit(MULTI, unitOf('gamma'));
    // alpha changes and passes; beta's gateway then exits at start-up.
    const broken = multi(
      {
        settings: { model: 'beta/model-2' },
        environment: { WHO: 'beta', HERMES_STANDIN_FAIL: '1' },
      },
      { settings: { model: 'alpha/model-2' } },
    );
    const result = await runCli(['run', '-i', broken, '-l', `host${MULTI}`, '--json'], {
      env,
      timeoutMs: 240_000,
    });
    expect(result.code, result.all).toBe(2);
    const host = report(result.stdout).hosts[0];
    expect(host?.failedTask).toBe('service');
    expect(host?.failedInstance).toBe('beta');
    expect(host?.rollback).toMatchObject({ outcome: 'rolled-back', generation: 2 });
    // alpha's change passed its health check and stays; beta is back, healthy; gamma untouched.
    expect((await fleet.standinRecord(MULTI, stateOf('alpha')))?.config).toMatchObject({
      model: 'alpha/model-2',
    });
    expect(await fleet.read(MULTI, `${stateOf('beta')}/.hermes/config.yaml`)).toBe(beforeBeta);
    expect(await fleet.read(MULTI, `${stateOf('beta')}/.hermes/.env`)).not.toContain(
      'HERMES_STANDIN_FAIL',
    );
    expect(await fleet.unit(MULTI, unitOf('beta'))).toMatchObject({ active: 'active' });
    expect((await fleet.unit(MULTI, unitOf('gamma'))).mainPid).toBe(gammaBefore.mainPid);
    expect(
      await fleet.read(MULTI, `/var/lib/hermes-fleet/instances/alpha/generations/current`),
    ).toBe('2\n');
    expect(
      await fleet.read(MULTI, `/var/lib/hermes-fleet/instances/beta/generations/current`),
    ).toBe('2\n');
    // The plain output names the instance.
    const plain = await runCli(['run', '-i', broken, '-l', `host${MULTI}`], {
      env,
      timeoutMs: 240_000,
    });
    expect(plain.code, plain.all).toBe(2);
    expect(plain.stdout).toContain(`[host${MULTI}] beta/service: failed`);
    expect(plain.stdout).toContain(`failed in beta/service`);
  });

  it('status, generations, logs, exec, restart, rollback and run take --instance', async () => {
    const current = multi(
      { settings: { model: 'beta/model-2' } },
      { settings: { model: 'alpha/model-2' } },
    );
    const status = await runCli(['status', '-i', current, '-l', `host${MULTI}`, '--json'], { env });
    expect(status.code, status.all).toBe(0);
    const rows = (
      JSON.parse(status.stdout) as {
        hosts: { instance?: string; status: string; generation: number }[];
      }
    ).hosts;
    expect(rows.map((r) => [r.instance, r.status])).toEqual([
      ['alpha', 'ok'],
      ['beta', 'ok'],
      ['gamma', 'ok'],
    ]);
    const table = await runCli(
      ['status', '-i', current, '-l', `host${MULTI}`, '--instance', 'beta'],
      { env },
    );
    expect(table.code, table.all).toBe(0);
    expect(table.stdout).toMatch(/^HOST\s+INSTANCE\s+REACHABLE/);
    expect(table.stdout).toMatch(new RegExp(`host${MULTI}\\s+beta\\s+yes\\s+active`));
    expect(table.stdout).not.toContain('alpha');

    const generations = await runCli(
      ['generations', '-i', current, '-l', `host${MULTI}`, '--instance', 'alpha', '--json'],
      { env },
    );
    expect(generations.code, generations.all).toBe(0);
    expect(JSON.parse(generations.stdout)).toMatchObject({
      hosts: [{ host: `host${MULTI}`, instance: 'alpha', current: 2 }],
    });

    const ambiguous = await runCli(['logs', '-i', current, '-l', `host${MULTI}`], { env });
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('choose one with --instance NAME');
    const logs = await runCli(
      ['logs', '-i', current, '-l', `host${MULTI}`, '--instance', 'beta', '-n', '20'],
      { env },
    );
    expect(logs.code, logs.all).toBe(0);
    expect(logs.stdout).toContain(`[host${MULTI}]`);
    const who = await runCli(
      [
        'exec',
        '-i',
        current,
        '-l',
        `host${MULTI}`,
        '--instance',
        'beta',
        '--as',
        'service',
        '--',
        'sh',
        '-c',
        'id -un; pwd',
      ],
      { env },
    );
    expect(who.code, who.all).toBe(0);
    expect(who.stdout).toContain(`[host${MULTI}] beta\n`);
    expect(who.stdout).toContain(`[host${MULTI}] ${stateOf('beta')}/workspace\n`);

    const before = await units();
    const restart = await runCli(
      ['restart', '-i', current, '-l', `host${MULTI}`, '--instance', 'gamma'],
      { env, timeoutMs: 120_000 },
    );
    expect(restart.code, restart.all).toBe(0);
    const restarted = await units();
    expect(restarted.gamma?.mainPid).not.toBe(before.gamma?.mainPid);
    expect(restarted.alpha?.mainPid).toBe(before.alpha?.mainPid);
    expect(restarted.beta?.mainPid).toBe(before.beta?.mainPid);

    const rollback = await runCli(
      ['rollback', '-i', current, '-l', `host${MULTI}`, '--instance', 'alpha', '--json'],
      { env, timeoutMs: 120_000 },
    );
    expect(rollback.code, rollback.all).toBe(0);
    const rolled = report(rollback.stdout).hosts[0];
    expect(rolled?.tasks.map((t) => [t.instance, t.task, t.status])).toEqual([
      ['alpha', 'rollback', 'changed'],
    ]);
    expect((await fleet.standinRecord(MULTI, stateOf('alpha')))?.config).toMatchObject({
      model: 'alpha/model',
    });
    expect(
      await fleet.read(MULTI, '/var/lib/hermes-fleet/instances/alpha/generations/current'),
    ).toBe('3\n');
    expect((await fleet.unit(MULTI, unitOf('beta'))).mainPid).toBe(restarted.beta?.mainPid);

    // run --instance beta: alpha's drift (the rollback) is left alone.
    const onlyBeta = await runCli(
      [
        'run',
        '-i',
        multi({ settings: { model: 'beta/model-3' } }, { settings: { model: 'alpha/model-2' } }),
        '-l',
        `host${MULTI}`,
        '--instance',
        'beta',
        '--json',
      ],
      { env },
    );
    expect(onlyBeta.code, onlyBeta.all).toBe(0);
    expect(changedTasks(report(onlyBeta.stdout), `host${MULTI}`)).toEqual([
      'beta/merge',
      'beta/service',
    ]);
    expect((await fleet.standinRecord(MULTI, stateOf('alpha')))?.config).toMatchObject({
      model: 'alpha/model',
    });
  });

  it('takes down an instance dropped from the inventory, keeping its state; a later purge deletes it', async () => {
    const withoutGamma = writeFleetInventory(MULTI, {
      all: {
        vars: { hermes: shared },
        hosts: {
          [`host${MULTI}`]: {
            instances: {
              alpha: instances().alpha,
              beta: instances({ settings: { model: 'beta/model-3' } }).beta,
            },
          },
        },
      },
    });
    // Check mode shows it first, and changes nothing.
    const check = await runCli(['run', '-i', withoutGamma, '-l', `host${MULTI}`, '--check'], {
      env,
    });
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toContain(`[host${MULTI}] alpha/service: changed`);
    const checkJson = await runCli(
      ['run', '-i', withoutGamma, '-l', `host${MULTI}`, '--check', '--json'],
      { env },
    );
    const summaries =
      report(checkJson.stdout).hosts[0]?.tasks.flatMap((t) => t.changes.map((c) => c.summary)) ??
      [];
    expect(summaries).toContain(
      'stop hermes-agent-gamma.service (instance gamma is no longer in the inventory)',
    );
    expect(summaries).toContain(
      'remove /etc/systemd/system/hermes-agent-gamma.service (instance gamma is no longer in the inventory)',
    );
    expect(summaries.some((line) => line.includes('/var/lib/hermes-gamma'))).toBe(false);
    expect(await fleet.unit(MULTI, unitOf('gamma'))).toMatchObject({ active: 'active' });

    const run = await runCli(['run', '-i', withoutGamma, '-l', `host${MULTI}`], {
      env,
      timeoutMs: 120_000,
    });
    expect(run.code, run.all).toBe(0);
    expect((await fleet.unit(MULTI, unitOf('gamma'))).active).not.toBe('active');
    expect(await fleet.stat(MULTI, `/etc/systemd/system/${unitOf('gamma')}`)).toBeNull();
    expect((await fleet.ssh(MULTI, "podman ps -a --format '{{.Names}}'")).stdout.trim()).toBe('');
    expect(await fleet.stat(MULTI, `${stateOf('gamma')}/.hermes/config.yaml`)).not.toBeNull();
    for (const name of ['alpha', 'beta']) {
      expect(await fleet.unit(MULTI, unitOf(name))).toMatchObject({ active: 'active' });
    }
    const again = await runCli(['run', '-i', withoutGamma, '-l', `host${MULTI}`, '--json'], {
      env,
    });
    expect(again.code, again.all).toBe(0);
    expect(changedTasks(report(again.stdout), `host${MULTI}`)).toEqual([]);

    // The purge: named in the plan first, then done; its generations go too.
    const purgeCheck = await runCli(
      ['run', '-i', withoutGamma, '-l', `host${MULTI}`, '--purge-removed-instances', '--check'],
      { env },
    );
    expect(purgeCheck.code, purgeCheck.all).toBe(0);
    expect(purgeCheck.stdout).toContain(`[host${MULTI}] alpha/service: changed`);
    const purge = await runCli(
      ['run', '-i', withoutGamma, '-l', `host${MULTI}`, '--purge-removed-instances', '-v'],
      { env },
    );
    expect(purge.code, purge.all).toBe(0);
    expect(purge.stdout).toContain(
      `remove directory ${stateOf('gamma')} and everything in it (the state of instance gamma, which is no longer in the inventory: --purge-removed-instances)`,
    );
    expect(await fleet.stat(MULTI, stateOf('gamma'))).toBeNull();
    expect(await fleet.stat(MULTI, '/var/lib/hermes-fleet/instances/gamma')).toBeNull();
    expect(await fleet.stat(MULTI, `${stateOf('beta')}/.hermes/config.yaml`)).not.toBeNull();
    const last = await runCli(
      ['run', '-i', withoutGamma, '-l', `host${MULTI}`, '--purge-removed-instances', '--json'],
      { env },
    );
    expect(changedTasks(report(last.stdout), `host${MULTI}`)).toEqual([]);
  });
});
