// Issue: container mode, the gateway in docker or podman. host1 runs it with podman, host2 with
// docker (podman-docker's command line); images are imported on the hosts (no registry). The
// assertions read what podman, systemd and the stand-in gateway inside the container did.
import { spawn } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport, ReportChange } from '../../src/report/json-schema.js';
import {
  FLEET_SH,
  bootFleet,
  describeFleet,
  sha256Hex,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { runCli } from './cli.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const HOSTS = [1, 2] as const;
const BACKEND = { 1: 'podman', 2: 'docker' } as const;
const IMAGE = 'ubuntu:24.04';
const IDENTITY = '/var/lib/hermes/.container-identity';
const MODE_FILE = '/var/lib/hermes/.hermes/.container-mode';

type Host = (typeof HOSTS)[number];

/** The inventory of this suite, with `changes` deep-merged over the hermes settings of all. */
function inventory(changes: Record<string, unknown> = {}): string {
  return writeFleetInventory(HOSTS.length, {
    all: {
      vars: {
        hermes: {
          settings: { model: 'anthropic/claude-sonnet-4' },
          environment: { E2E_VALUE: 'one' },
          extraArgs: ['--label', 'two words'],
          container: { enable: true, backend: 'podman', image: IMAGE },
          ...changes,
        },
      },
      hosts: { host2: { hermes: { container: { backend: 'docker' } } } },
    },
  });
}

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function serviceChanges(r: JsonReport, host: string): ReportChange[] {
  const h = r.hosts.find((x) => x.host === host);
  return h?.tasks.find((t) => t.task === 'service')?.changes ?? [];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

function fleetSh(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [FLEET_SH, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => {
      resolve(code ?? 1);
    });
  });
}

describeFleet('container mode on real hosts', () => {
  let fleet: Fleet;

  /** `<backend> container inspect` of hermes-agent on host i, or null when there is none. */
  async function container(i: Host): Promise<{
    Id: string;
    State: { Running: boolean };
    Config: { Env: string[]; Labels: Record<string, string> | null };
    HostConfig: { NetworkMode: string };
    Mounts: { Source: string; Destination: string; RW: boolean }[];
  } | null> {
    const out = await fleet.ssh(i, `${BACKEND[i]} container inspect hermes-agent`);
    if (out.code !== 0) return null;
    const [first] = JSON.parse(out.stdout) as [unknown];
    return first as never;
  }

  async function containerNames(i: Host): Promise<string> {
    const out = await fleet.ssh(i, `${BACKEND[i]} ps -a --format '{{.Names}}'`);
    expect(out.code, out.stderr).toBe(0);
    return out.stdout.trim();
  }

  /** The command lines of every gateway process on host i, container ones included. */
  async function gateways(i: Host): Promise<string[]> {
    const out = await fleet.ssh(i, "ps -eo args= | grep '[h]ermes/bin/hermes gateway' || true");
    return out.stdout.trim().split('\n').filter(Boolean);
  }

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS.length);
  });

  it('fails a host whose image is missing, naming it and how to provide it; leaves nothing', async () => {
    const result = await runCli(['run', '-i', inventory(), '--json']);
    expect(result.code, result.all).toBe(2);
    const r = report(result.stdout);
    for (const i of HOSTS) {
      const host = r.hosts.find((h) => h.host === `host${i}`);
      expect(host?.status).toBe('failed');
      const service = host?.tasks.find((t) => t.task === 'service');
      expect(service?.status).toBe('failed');
      expect(service?.message).toContain(`container image ${IMAGE} is not on the host`);
      expect(service?.message).toContain(`\`${BACKEND[i]} pull ${IMAGE}\``);
      expect(service?.message).toContain(`\`${BACKEND[i]} load -i ARCHIVE.tar\``);
      // The plan failed before anything was written: no container, unit, identity or account.
      expect(await containerNames(i)).toBe('');
      expect(await fleet.stat(i, `/etc/systemd/system/${UNIT}`)).toBeNull();
      expect(await fleet.stat(i, IDENTITY)).toBeNull();
      expect((await fleet.ssh(i, 'getent passwd hermes')).code).not.toBe(0);
    }
  });

  it('imports the image on both hosts', { timeout: 600_000 }, async () => {
    await Promise.all(HOSTS.map((i) => fleet.importImage(i, IMAGE)));
  });

  it('check mode with --diff reports the creation and does nothing', async () => {
    const result = await runCli([
      'run',
      '-i',
      inventory(),
      '--check',
      '--diff',
      '--json',
      '--detailed-exitcode',
    ]);
    expect(result.code, result.all).toBe(3);
    const r = report(result.stdout);
    for (const i of HOSTS) {
      const changes = serviceChanges(r, `host${i}`);
      const start = changes.find((c) => c.action === 'start');
      expect(start?.summary).toContain(`the start creates container hermes-agent from ${IMAGE}`);
      const identity = changes.find((c) => c.path === IDENTITY);
      expect(identity?.diff).toContain(`+  "container.image": "${IMAGE}",`);
      expect(await containerNames(i)).toBe('');
      expect(await fleet.stat(i, `/etc/systemd/system/${UNIT}`)).toBeNull();
    }
  });

  const ids: Partial<Record<Host, string | undefined>> = {};

  it('runs the gateway in podman on host1 and docker on host2, as hermes with HERMES_HOME=/data/.hermes', async () => {
    const result = await runCli(['run', '-i', inventory(), '--json']);
    expect(result.code, result.all).toBe(0);
    for (const i of HOSTS) {
      expect(await fleet.unit(i, UNIT)).toMatchObject({ active: 'active', enabled: 'enabled' });
      const unitText = await fleet.read(i, `/etc/systemd/system/${UNIT}`);
      expect(unitText).toContain(`ExecStart=${BACKEND[i]} start -a hermes-agent`);
      expect(unitText).toContain(`ExecStop=-${BACKEND[i]} stop -t 10 hermes-agent`);
      // The module's note for the host CLI: exec into this container.
      expect(await fleet.read(i, MODE_FILE)).toBe(
        [
          '# Written by hermes-fleet. Do not edit manually.',
          `backend=${BACKEND[i]}`,
          'container_name=hermes-agent',
          'exec_user=hermes',
          'hermes_bin=/opt/hermes/bin/hermes',
          '',
        ].join('\n'),
      );
      expect(await fleet.stat(i, MODE_FILE)).toMatchObject({ user: 'hermes', mode: 0o644 });

      const c = await container(i);
      expect(c?.State.Running).toBe(true);
      ids[i] = c?.Id;
      expect(c?.HostConfig.NetworkMode).toBe('host');
      const mounts = Object.fromEntries((c?.Mounts ?? []).map((m) => [m.Destination, m]));
      expect(mounts['/data']).toMatchObject({ Source: '/var/lib/hermes', RW: true });
      expect(mounts['/home/hermes']).toMatchObject({ Source: '/var/lib/hermes/home', RW: true });
      expect(mounts['/opt/hermes']).toMatchObject({ Source: '/opt/hermes', RW: false });
      const uid = (await fleet.ssh(i, 'id -u hermes')).stdout.trim();
      const gid = (await fleet.ssh(i, 'id -g hermes')).stdout.trim();
      expect(c?.Config.Env).toEqual(
        expect.arrayContaining([
          `HERMES_UID=${uid}`,
          `HERMES_GID=${gid}`,
          'HERMES_HOME=/data/.hermes',
          'HERMES_MANAGED=true',
          'HOME=/home/hermes',
          'MESSAGING_CWD=/data/workspace',
        ]),
      );

      // What the stand-in gateway saw inside the container (the record lands in the host's stateDir).
      const record = await fleet.standinRecord(i);
      expect(record).toMatchObject({
        user: 'hermes',
        uid: Number(uid),
        gid: Number(gid),
        hermes_home: '/data/.hermes',
        hermes_managed: 'true',
        home: '/home/hermes',
        messaging_cwd: '/data/workspace',
        args: ['run', '--replace', '--label', 'two words'],
      });
      expect(record?.env.E2E_VALUE).toBe(sha256Hex('one'));

      const identity = (await fleet.read(i, IDENTITY)) ?? '';
      expect(identity).toMatch(/^[0-9a-f]{64}\n\{/);
      expect(await fleet.stat(i, IDENTITY)).toMatchObject({ user: 'root', mode: 0o644 });
      // No network is assumed inside the container: the entrypoint provisions nothing.
      const journal = await fleet.ssh(i, `journalctl -u ${UNIT} --no-pager -o cat`);
      expect(journal.stdout).not.toMatch(/apt-get|curl|provisioning/i);
      expect(await gateways(i)).toHaveLength(1);
    }
  });

  it('keeps the same container on a second run: nothing changes, exit 0 with --detailed-exitcode', async () => {
    const before = await Promise.all(HOSTS.map((i) => fleet.unit(i, UNIT)));
    const records = await Promise.all(HOSTS.map((i) => fleet.standinRecord(i)));
    const result = await runCli(['run', '-i', inventory(), '--json', '--detailed-exitcode']);
    expect(result.code, result.all).toBe(0);
    for (const host of report(result.stdout).hosts) {
      expect(host.status).toBe('ok');
      expect(host.tasks.every((t) => t.changes.length === 0)).toBe(true);
    }
    for (const [n, i] of HOSTS.entries()) {
      expect((await container(i))?.Id).toBe(ids[i]);
      expect(await fleet.unit(i, UNIT)).toEqual(before[n]);
      expect((await fleet.standinRecord(i))?.started_at).toBe(records[n]?.started_at);
    }
  });

  const labelled = { extraOptions: ['--label=hermes-e2e=2'] };

  it('check mode and --diff name the identity input that changed, and recreate nothing', async () => {
    const changed = inventory({
      container: { enable: true, backend: 'podman', image: IMAGE, ...labelled },
    });
    const result = await runCli([
      'run',
      '-i',
      changed,
      '--check',
      '--diff',
      '--json',
      '--detailed-exitcode',
    ]);
    expect(result.code, result.all).toBe(3);
    const r = report(result.stdout);
    for (const i of HOSTS) {
      const changes = serviceChanges(r, `host${i}`);
      expect(changes.find((c) => c.kind === 'container-remove')?.summary).toBe(
        `remove ${BACKEND[i]} container hermes-agent (recreated: container.extraOptions changed)`,
      );
      expect(changes.find((c) => c.action === 'stop')?.summary).toContain(
        'the container is recreated: container.extraOptions changed',
      );
      expect(changes.find((c) => c.path === IDENTITY)?.diff).toMatch(
        /^\+ {4}"--label=hermes-e2e=2"$/m,
      );
      expect((await container(i))?.Id).toBe(ids[i]);
    }
  });

  it('recreates the container for a new extraOptions value', async () => {
    const changed = inventory({
      container: { enable: true, backend: 'podman', image: IMAGE, ...labelled },
    });
    const result = await runCli(['run', '-i', changed, '--json']);
    expect(result.code, result.all).toBe(0);
    for (const i of HOSTS) {
      const c = await container(i);
      expect(c?.State.Running).toBe(true);
      expect(c?.Id).not.toBe(ids[i]);
      expect(c?.Config.Labels).toMatchObject({ 'hermes-e2e': '2' });
      ids[i] = c?.Id;
      expect(await containerNames(i)).toBe('hermes-agent');
      expect((await fleet.standinRecord(i))?.hermes_home).toBe('/data/.hermes');
    }
    const again = await runCli(['run', '-i', changed, '--detailed-exitcode']);
    expect(again.code, again.all).toBe(0);
  });

  it('restarts the same container, without recreating it, for a changed environment value', async () => {
    const changed = inventory({
      container: { enable: true, backend: 'podman', image: IMAGE, ...labelled },
      environment: { E2E_VALUE: 'two' },
    });
    const check = await runCli(['run', '-i', changed, '--check', '--json']);
    expect(check.code, check.all).toBe(0);
    for (const i of HOSTS) {
      const changes = serviceChanges(report(check.stdout), `host${i}`);
      // The restart is noted before .env changes (secrets task) and the note cleared after it;
      // the healthy change is recorded as a generation.
      expect(changes.map((c) => c.action ?? c.kind)).toEqual([
        'restart',
        'wait-healthy',
        'generation',
        'restart-pending',
      ]);
      expect(changes[0]?.summary).toContain('.env changed');
    }
    const before = await Promise.all(HOSTS.map((i) => fleet.standinRecord(i)));
    const result = await runCli(['run', '-i', changed, '--json']);
    expect(result.code, result.all).toBe(0);
    for (const [n, i] of HOSTS.entries()) {
      expect((await container(i))?.Id).toBe(ids[i]);
      const record = await fleet.standinRecord(i);
      expect(record?.started_at).not.toBe(before[n]?.started_at);
      expect(record?.env.E2E_VALUE).toBe(sha256Hex('two'));
      expect(record?.user).toBe('hermes');
    }
  });

  async function comesBack(i: Host, startedBefore: string | undefined): Promise<void> {
    await waitFor(`host${i}'s gateway to run again`, async () => {
      const record = await fleet.standinRecord(i).catch(() => null);
      const unit = await fleet.unit(i, UNIT).catch(() => null);
      return unit?.active === 'active' && !!record && record.started_at !== startedBefore;
    });
    const c = await container(i);
    expect(c?.State.Running).toBe(true);
    expect(c?.Id).toBe(ids[i]);
    expect(await fleet.standinRecord(i)).toMatchObject({
      user: 'hermes',
      hermes_home: '/data/.hermes',
    });
  }

  it('comes back after `systemctl restart hermes-agent`', async () => {
    for (const i of HOSTS) {
      const before = (await fleet.standinRecord(i))?.started_at;
      const restart = await fleet.ssh(i, `systemctl restart ${UNIT}`);
      expect(restart.code, restart.stderr).toBe(0);
      await comesBack(i, before);
    }
  });

  it('comes back after the hosts reboot', { timeout: 300_000 }, async () => {
    const bootId = 'cat /proc/sys/kernel/random/boot_id';
    const boots = await Promise.all(HOSTS.map((i) => fleet.ssh(i, bootId)));
    const records = await Promise.all(HOSTS.map((i) => fleet.standinRecord(i)));
    // Power off (systemd shuts down, containers stop) and boot again from the same disk.
    expect(await fleetSh(['reboot', ...HOSTS.map(String)])).toBe(0);
    for (const [n, i] of HOSTS.entries()) {
      expect((await fleet.ssh(i, bootId)).stdout).not.toBe(boots[n]?.stdout);
      await comesBack(i, records[n]?.started_at);
    }
    const changed = inventory({
      container: { enable: true, backend: 'podman', image: IMAGE, ...labelled },
      environment: { E2E_VALUE: 'two' },
    });
    const result = await runCli(['run', '-i', changed, '--detailed-exitcode']);
    expect(result.code, result.all).toBe(0);
  });

  it('switching to native mode removes the container; switching back stops the native gateway', async () => {
    const native = inventory({
      container: { enable: false, backend: 'podman', image: IMAGE },
    });
    const toNative = await runCli(['run', '-i', native, '--json']);
    expect(toNative.code, toNative.all).toBe(0);
    for (const i of HOSTS) {
      expect(await containerNames(i)).toBe('');
      expect(await fleet.stat(i, IDENTITY)).toBeNull();
      expect(await fleet.stat(i, MODE_FILE)).toBeNull();
      const running = await gateways(i);
      expect(running).toHaveLength(1);
      expect(running[0]).not.toContain('gateway run --replace');
      expect(await fleet.standinRecord(i)).toMatchObject({
        user: 'hermes',
        hermes_home: '/var/lib/hermes/.hermes',
      });
    }
    const nativeAgain = await runCli(['run', '-i', native, '--detailed-exitcode']);
    expect(nativeAgain.code, nativeAgain.all).toBe(0);

    const toContainer = await runCli(['run', '-i', inventory(), '--json']);
    expect(toContainer.code, toContainer.all).toBe(0);
    for (const i of HOSTS) {
      expect((await container(i))?.State.Running).toBe(true);
      const running = await gateways(i);
      expect(running).toHaveLength(1);
      expect(running[0]).toContain('gateway run --replace');
      expect((await fleet.standinRecord(i))?.hermes_home).toBe('/data/.hermes');
    }
    const containerAgain = await runCli(['run', '-i', inventory(), '--detailed-exitcode']);
    expect(containerAgain.code, containerAgain.all).toBe(0);
  });
});
