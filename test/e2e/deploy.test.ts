// Issue: the deploy on real hosts. Five clean Debian hosts (systemd, sshd) from the test fleet,
// the real CLI over real SSH, and assertions on what systemd, useradd and the stand-in gateway
// actually did.
import { TASK_NAMES } from '../../tasks/index.js';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import {
  FLEET_NET,
  bootFleet,
  describeFleet,
  sha256Hex,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { MANAGED_DIRS, MANAGED_PATHS, runCli, snapshot } from './cli.js';

const HOSTS = 5;
const hostile =
  'it\'s "quoted" $(touch /tmp/pwned-1) `touch /tmp/pwned-2` ; rm -rf / \\ \nEOF\n%h %% $HOME';

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function statuses(r: JsonReport, host: string): Record<string, string> {
  const h = r.hosts.find((x) => x.host === host);
  return Object.fromEntries((h?.tasks ?? []).map((t) => [t.task, t.status]));
}

describeFleet('deploy on real hosts', () => {
  let fleet: Fleet;
  let inventory: string;
  const secretValue = 'sk-or-v1-SECRET-e2e-0123456789';

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    inventory = writeFleetInventory(HOSTS, {
      all: {
        vars: {
          hermes: {
            settings: {
              model: 'anthropic/claude-sonnet-4',
              toolsets: ['all'],
              compression: { enabled: true, threshold: 0.85 },
              hostile,
            },
            environment: { HERMES_LOG_LEVEL: 'info', HOSTILE_ENV: hostile.replaceAll('\n', ' ') },
            secrets: { OPENROUTER_API_KEY: { env: 'E2E_OPENROUTER_KEY' } },
            documents: { 'SOUL.md': 'You are a test agent.\n', 'HOSTILE.md': `${hostile}\nEOF\n` },
            extraArgs: ['--label', hostile.replaceAll('\n', ' ')],
          },
        },
      },
    });
    // A person's own config on host2, with comments, before the first deploy.
    await fleet.ssh(
      2,
      'mkdir -p /var/lib/hermes/.hermes && printf "%s\\n" "# my own notes" "streaming: true  # keep me" "model: my/own-model" "compression:" "  threshold: 0.5" "  mine: yes" > /var/lib/hermes/.hermes/config.yaml',
    );
  });

  const env = () => ({ E2E_OPENROUTER_KEY: secretValue });

  it('converges five clean hosts to the state the README task table describes', async () => {
    const result = await runCli(['run', '-i', inventory, '--json'], { env: env() });
    expect(result.code, result.all).toBe(0);
    const r = report(result.stdout);
    expect(r.hosts.map((h) => h.status)).toEqual(Array(HOSTS).fill('changed'));
    expect(result.all).not.toContain(secretValue);

    for (let i = 1; i <= HOSTS; i++) {
      const ids = await fleet.ssh(i, 'getent passwd hermes; getent group hermes');
      expect(ids.stdout).toMatch(/^hermes:x:\d+:\d+::\/var\/lib\/hermes:\/bin\/bash$/m);
      expect(ids.stdout).toMatch(/^hermes:x:\d+:$/m);
      for (const dir of MANAGED_DIRS) {
        expect(await fleet.stat(i, dir), dir).toMatchObject({
          mode: 0o750,
          user: 'hermes',
          group: 'hermes',
        });
      }
      expect(await fleet.stat(i, '/var/lib/hermes/.hermes/config.yaml')).toMatchObject({
        mode: 0o640,
        user: 'hermes',
      });
      expect(await fleet.stat(i, '/var/lib/hermes/.hermes/.managed')).toMatchObject({
        mode: 0o644,
        user: 'hermes',
      });
      expect(await fleet.stat(i, '/var/lib/hermes/.hermes/.env')).toMatchObject({
        mode: 0o600,
        user: 'hermes',
        group: 'hermes',
      });
      expect(await fleet.stat(i, '/var/lib/hermes/workspace/SOUL.md')).toMatchObject({
        mode: 0o640,
        user: 'hermes',
      });
      expect(await fleet.stat(i, '/etc/systemd/system/hermes-agent.service')).toMatchObject({
        mode: 0o644,
        user: 'root',
      });
      const unit = await fleet.unit(i, 'hermes-agent.service');
      expect(unit).toMatchObject({ active: 'active', enabled: 'enabled' });

      const record = await fleet.standinRecord(i);
      expect(record).toMatchObject({
        user: 'hermes',
        hermes_home: '/var/lib/hermes/.hermes',
        hermes_managed: 'true',
        messaging_cwd: '/var/lib/hermes/workspace',
        home: '/var/lib/hermes',
        cwd: '/var/lib/hermes/workspace',
      });
      // Values arrive byte-for-byte through .env (python-dotenv) and the unit's ExecStart.
      expect(record?.env.OPENROUTER_API_KEY).toBe(sha256Hex(secretValue));
      expect(record?.env.HOSTILE_ENV).toBe(sha256Hex(hostile.replaceAll('\n', ' ')));
      expect(record?.args).toEqual(['--label', hostile.replaceAll('\n', ' ')]);
      expect(record?.config.hostile).toBe(hostile);
      expect(await fleet.read(i, '/var/lib/hermes/workspace/HOSTILE.md')).toBe(`${hostile}\nEOF\n`);
      const pwned = await fleet.ssh(
        i,
        'ls /tmp/pwned-1 /tmp/pwned-2 / 2>/dev/null | grep -c pwned || true',
      );
      expect(pwned.stdout.trim()).toBe('0');
    }
  });

  it("keeps a person's own keys and comments; managed keys win", async () => {
    const text = await fleet.read(2, '/var/lib/hermes/.hermes/config.yaml');
    expect(text).toContain('# my own notes');
    expect(text).toMatch(/^streaming: true +# keep me$/m);
    expect(text).toContain('mine: yes');
    const record = await fleet.standinRecord(2);
    expect(record?.config).toMatchObject({
      streaming: true,
      model: 'anthropic/claude-sonnet-4',
      compression: { enabled: true, threshold: 0.85, mine: true },
    });
  });

  it('changes nothing, rewrites nothing and restarts nothing on a second run', async () => {
    const before = await Promise.all([1, 2, 3, 4, 5].map((i) => snapshot(fleet, i, MANAGED_PATHS)));
    const units = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => fleet.unit(i, 'hermes-agent.service')),
    );
    const result = await runCli(['run', '-i', inventory, '--json', '--detailed-exitcode'], {
      env: env(),
    });
    expect(result.code, result.all).toBe(0);
    const r = report(result.stdout);
    for (const host of r.hosts) {
      expect(host.status).toBe('ok');
      expect(host.tasks.every((t) => t.status === 'ok' && t.changes.length === 0)).toBe(true);
      // One connection, one round trip: the batched read; nothing to apply.
      expect(host.stats).toMatchObject({ connections: 1, roundTrips: 1 });
    }
    // A check costs the same single round trip.
    const check = await runCli(['run', '-i', inventory, '--check', '--json'], { env: env() });
    expect(check.code, check.all).toBe(0);
    for (const host of report(check.stdout).hosts) {
      expect(host.stats).toMatchObject({ connections: 1, roundTrips: 1, channels: 1 });
    }
    const after = await Promise.all([1, 2, 3, 4, 5].map((i) => snapshot(fleet, i, MANAGED_PATHS)));
    expect(after).toEqual(before);
    const unitsAfter = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => fleet.unit(i, 'hermes-agent.service')),
    );
    expect(unitsAfter).toEqual(units);
  });

  it('changes exactly merge and service, with one restart, when one setting changes', async () => {
    const unitBefore = await fleet.unit(3, 'hermes-agent.service');
    const result = await runCli(
      [
        'run',
        '-i',
        inventory,
        '--json',
        '-l',
        'host3',
        '-e',
        'hermes.settings.model=openrouter/other',
      ],
      { env: env() },
    );
    expect(result.code, result.all).toBe(0);
    const r = report(result.stdout);
    expect(statuses(r, 'host3')).toEqual({
      users: 'ok',
      dirs: 'ok',
      release: 'ok',
      merge: 'changed',
      secrets: 'ok',
      docs: 'ok',
      plugins: 'ok',
      packages: 'ok',
      service: 'changed',
    });
    const service = r.hosts[0]?.tasks.find((t) => t.task === 'service');
    expect(service?.changes.filter((c) => c.action === 'restart')).toHaveLength(1);
    // Read, then apply: two round trips on one connection.
    expect(r.hosts[0]?.stats).toMatchObject({ connections: 1, roundTrips: 2 });
    const unitAfter = await fleet.unit(3, 'hermes-agent.service');
    expect(unitAfter.mainPid).not.toBe(unitBefore.mainPid);
    expect((await fleet.standinRecord(3))?.config.model).toBe('openrouter/other');
  });

  it('converges the same through a non-root login with become: sudo', async () => {
    await fleet.reset(4);
    const sudoInventory = join(dirname(inventory), 'sudo.yaml');
    writeFileSync(
      sudoInventory,
      [
        'all:',
        '  vars:',
        '    ssh:',
        '      user: deploy',
        '      become: sudo',
        `      identityFile: ${fleet.paths.key}`,
        `      knownHosts: ${fleet.paths.knownHosts}`,
        '    hermes:',
        '      settings: { model: anthropic/claude-sonnet-4 }',
        '      documents: { SOUL.md: "sudo deployed" }',
        '  hosts:',
        `    host4: { ssh: { host: ${fleet.hostAddress(4)} } }`,
        '',
      ].join('\n'),
    );
    const first = await runCli(['run', '-i', sudoInventory]);
    expect(first.code, first.all).toBe(0);
    expect(await fleet.read(4, '/var/lib/hermes/workspace/SOUL.md')).toBe('sudo deployed');
    expect((await fleet.standinRecord(4))?.user).toBe('hermes');
    const second = await runCli(['run', '-i', sudoInventory, '--detailed-exitcode']);
    expect(second.code, second.all).toBe(0);
  });

  it('reports an unreachable host with exit 4 while the others converge', async () => {
    const withDead = join(dirname(inventory), 'dead.yaml');
    writeFileSync(
      withDead,
      [
        'all:',
        '  vars:',
        '    ssh:',
        '      user: root',
        `      identityFile: ${fleet.paths.key}`,
        `      knownHosts: ${fleet.paths.knownHosts}`,
        '      connectTimeout: 3',
        '  hosts:',
        `    host1: { ssh: { host: ${fleet.hostAddress(1)} } }`,
        `    ghost: { ssh: { host: 127.0.${FLEET_NET}.250 } }`,
        '',
      ].join('\n'),
    );
    const started = Date.now();
    const result = await runCli(['run', '-i', withDead]);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.code, result.all).toBe(4);
    expect(result.stdout).toMatch(/ghost\s+: ok=0\s+changed=0\s+unreachable=1\s+failed=0/);
    expect(result.stdout).toMatch(
      new RegExp(`host1\\s+: ok=${TASK_NAMES.length}\\s+changed=\\d+\\s+unreachable=0\\s+failed=0`),
    );
  });
});
