// The harness's own proof: hosts boot clean, are distinct, run units and containers, reset fast.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bootFleet, describeFleet, sha256Hex, writeFleetInventory, type Fleet } from './fleet.js';

async function ok(fleet: Fleet, i: number, cmd: string, user?: string): Promise<string> {
  const result = await fleet.ssh(i, cmd, user === undefined ? {} : { user });
  expect(result, `host${i}: ${cmd}`).toMatchObject({ code: 0 });
  return result.stdout;
}

describeFleet('test fleet', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await bootFleet(2);
  });

  it('boots hosts whose systemd reaches running', async () => {
    for (const i of [1, 2]) {
      expect((await ok(fleet, i, 'systemctl is-system-running')).trim()).toBe('running');
      expect((await ok(fleet, i, 'hostname')).trim()).toBe(`host${i}`);
    }
  });

  it('gives every host its own address and host keys, all in known_hosts', async () => {
    const key1 = await fleet.read(1, '/etc/ssh/ssh_host_ed25519_key.pub');
    const key2 = await fleet.read(2, '/etc/ssh/ssh_host_ed25519_key.pub');
    expect(key1).toMatch(/^ssh-ed25519 /);
    expect(key1).not.toBe(key2);
    const knownHosts = readFileSync(fleet.paths.knownHosts, 'utf8');
    for (const [i, key] of [
      [1, key1],
      [2, key2],
    ] as const) {
      const blob = (key ?? '').split(' ')[1] ?? '';
      expect(knownHosts).toContain(`${fleet.hostAddress(i)} ssh-ed25519 ${blob}`);
    }
    expect(await fleet.read(1, '/etc/machine-id')).not.toBe(await fleet.read(2, '/etc/machine-id'));
  });

  it('lets root and deploy in with the harness key; deploy has passwordless sudo', async () => {
    expect((await ok(fleet, 1, 'id -un')).trim()).toBe('root');
    expect(
      (await ok(fleet, 1, 'id -un; sudo -n true && echo sudo-ok', 'deploy')).split('\n'),
    ).toEqual(['deploy', 'sudo-ok', '']);
  });

  it('reads files, modes and units back', async () => {
    expect(await fleet.stat(1, '/etc/sudoers.d/deploy')).toMatchObject({
      mode: 0o440,
      user: 'root',
      group: 'root',
      type: 'file',
    });
    expect(await fleet.stat(1, '/home/deploy')).toMatchObject({
      user: 'deploy',
      type: 'directory',
    });
    expect(await fleet.stat(1, '/no/such/file')).toBeNull();
    expect(await fleet.read(1, '/etc/hostname')).toBe('host1\n');
    expect(await fleet.read(1, '/no/such/file')).toBeNull();
    const ssh = await fleet.unit(1, 'ssh.service');
    expect(ssh).toMatchObject({ active: 'active', enabled: 'enabled', sub: 'running' });
    expect(ssh.mainPid).toBeGreaterThan(0);
    expect(ssh.activeEnterTimestamp).not.toBe('');
    expect(await fleet.unit(1, 'no-such.service')).toMatchObject({
      active: 'inactive',
      load: 'not-found',
    });
  });

  it('runs units with the hardening the gateway unit uses', async () => {
    await ok(
      fleet,
      1,
      'systemd-run --wait --quiet --collect -p User=deploy -p PrivateTmp=yes -p ProtectSystem=strict ' +
        '-p NoNewPrivileges=yes -p ReadWritePaths=/home/deploy touch /home/deploy/hardened',
    );
    expect(await fleet.stat(1, '/home/deploy/hardened')).toMatchObject({ user: 'deploy' });
  });

  it('has the stand-in hermes, which fails where a managed deploy is incomplete', async () => {
    expect((await ok(fleet, 1, '/opt/hermes/bin/hermes --version')).trim()).toBe(
      'hermes-agent 0.0.0-standin',
    );
    await ok(fleet, 1, 'mkdir -p /srv/h/.hermes/cron /srv/h/.hermes/sessions /srv/h/.hermes/logs');
    const missing = await fleet.ssh(
      1,
      'HERMES_MANAGED=true HERMES_HOME=/srv/h/.hermes /opt/hermes/bin/hermes gateway',
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('/srv/h/.hermes/memories');
  });

  it('runs the stand-in as a service and records what it read', async () => {
    await fleet.write(
      2,
      '/var/lib/hermes/.hermes/.env',
      'API_KEY=s3cr3t value\nHERMES_LOG_LEVEL=info\n',
    );
    await fleet.write(
      2,
      '/var/lib/hermes/.hermes/config.yaml',
      'model: anthropic/claude-sonnet-4\ntoolsets: [all]\n',
    );
    await ok(
      fleet,
      2,
      [
        'useradd --system --home-dir /var/lib/hermes hermes',
        'cd /var/lib/hermes && mkdir -p .hermes/cron .hermes/sessions .hermes/logs .hermes/memories workspace',
        'chown -R hermes:hermes /var/lib/hermes',
        'systemd-run --unit=standin -p User=hermes -p WorkingDirectory=/var/lib/hermes/workspace ' +
          '--setenv=HOME=/var/lib/hermes --setenv=HERMES_HOME=/var/lib/hermes/.hermes ' +
          '--setenv=HERMES_MANAGED=true --setenv=MESSAGING_CWD=/var/lib/hermes/workspace ' +
          '/opt/hermes/bin/hermes gateway --verbose',
        'for _ in $(seq 50); do [ -f .hermes/standin-record.json ] && break; sleep 0.1; done',
      ].join(' && '),
    );
    const record = await fleet.standinRecord(2);
    expect(record).toMatchObject({
      user: 'hermes',
      hermes_home: '/var/lib/hermes/.hermes',
      hermes_managed: 'true',
      messaging_cwd: '/var/lib/hermes/workspace',
      home: '/var/lib/hermes',
      cwd: '/var/lib/hermes/workspace',
      args: ['--verbose'],
      env: { API_KEY: sha256Hex('s3cr3t value'), HERMES_LOG_LEVEL: sha256Hex('info') },
      config: { model: 'anthropic/claude-sonnet-4', toolsets: ['all'] },
    });
    const unit = await fleet.unit(2, 'standin.service');
    expect(unit).toMatchObject({ active: 'active', mainPid: record?.pid });
    await ok(fleet, 2, 'systemctl stop standin.service');
    // SIGTERM is a clean exit: the unit is not failed.
    expect(await fleet.unit(2, 'standin.service')).toMatchObject({ load: 'not-found' });

    await ok(fleet, 2, 'echo HERMES_STANDIN_FAIL=1 >> /var/lib/hermes/.hermes/.env');
    const failing = await fleet.ssh(
      2,
      'cd /var/lib/hermes/workspace && setpriv --reuid=hermes --regid=hermes --init-groups ' +
        'env HERMES_HOME=/var/lib/hermes/.hermes HERMES_MANAGED=true /opt/hermes/bin/hermes gateway',
    );
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('HERMES_STANDIN_FAIL');
    expect((await fleet.standinRecord(2))?.env).toHaveProperty('HERMES_STANDIN_FAIL');
  });

  it('runs containers with podman and docker on an imported image', async () => {
    const started = Date.now();
    await fleet.importImage(1, 'fleet-test:1');
    const importMs = Date.now() - started;
    process.stderr.write(`fleet: importImage took ${importMs} ms\n`);
    expect(importMs).toBeLessThan(60_000);
    const probe = `python3 -c 'import dotenv, yaml; print("py-ok")'`;
    expect((await ok(fleet, 1, `podman run --rm fleet-test:1 ${probe}`)).trim()).toBe('py-ok');
    expect((await ok(fleet, 1, `docker run --rm fleet-test:1 sh -c 'id -u; ls /opt'`)).trim()).toBe(
      '0',
    );
  });

  it('keeps hosts that are up on a second boot without --fresh', async () => {
    const bootId = await ok(fleet, 1, 'cat /proc/sys/kernel/random/boot_id');
    fleet = await bootFleet(2, { fresh: false });
    expect(await ok(fleet, 1, 'cat /proc/sys/kernel/random/boot_id')).toBe(bootId);
  });

  it('resets a host to a clean disk with new host keys in seconds', async () => {
    await ok(fleet, 1, 'touch /root/dirty');
    const keyBefore = await fleet.read(1, '/etc/ssh/ssh_host_ed25519_key.pub');
    const started = Date.now();
    await fleet.reset(1);
    const resetMs = Date.now() - started;
    process.stderr.write(`fleet: reset took ${resetMs} ms\n`);
    expect(resetMs).toBeLessThan(30_000);
    expect(await fleet.stat(1, '/root/dirty')).toBeNull();
    expect(await fleet.read(1, '/etc/ssh/ssh_host_ed25519_key.pub')).not.toBe(keyBefore);
    expect((await ok(fleet, 1, 'systemctl is-system-running')).trim()).toBe('running');
    expect(await fleet.stat(2, '/var/lib/hermes')).not.toBeNull(); // host2 untouched
  });

  it('writes an inventory for the fleet', () => {
    const file = writeFleetInventory(2, {
      all: { vars: { hermes: { settings: { model: 'm' } } } },
    });
    expect(parse(readFileSync(file, 'utf8'))).toEqual({
      all: {
        vars: {
          ssh: { user: 'root', identityFile: fleet.paths.key, knownHosts: fleet.paths.knownHosts },
          hermes: { settings: { model: 'm' } },
        },
        hosts: {
          host1: { ssh: { host: fleet.hostAddress(1) } },
          host2: { ssh: { host: fleet.hostAddress(2) } },
        },
      },
    });
  });
});
