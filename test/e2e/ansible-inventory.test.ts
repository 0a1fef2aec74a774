// Issue: Ansible inventories as they are. Deploys on real hosts from an INI inventory with
// group_vars/ and host_vars/ beside it, logging in as `deploy` with ansible_become (sudo), and
// from an executable (dynamic) inventory script; the real CLI over real SSH.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';

const HOSTS = 2;

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

describeFleet('deploys from Ansible inventories', () => {
  let fleet: Fleet;
  let work: string;

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    work = mkdtempSync(join(tmpdir(), 'hermes-fleet-ansible-e2e-'));
  });

  it('deploys from INI with group_vars/host_vars, logged in as deploy with ansible_become', async () => {
    const dir = join(work, 'ini');
    mkdirSync(join(dir, 'group_vars'), { recursive: true });
    mkdirSync(join(dir, 'host_vars', 'host2'), { recursive: true });
    writeFileSync(
      join(dir, 'hosts.ini'),
      [
        '# the usual Ansible inventory',
        '[gateways]',
        `host1 ansible_host=${fleet.hostAddress(1)}`,
        `host2 ansible_host=${fleet.hostAddress(2)}`,
        '',
        '[gateways:vars]',
        'ansible_user=deploy',
        'ansible_become=true',
        'ansible_become_method=sudo',
        `ansible_ssh_private_key_file=${fleet.paths.key}`,
        `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.paths.knownHosts}'`,
        'ansible_python_interpreter=/usr/bin/python3',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'group_vars', 'gateways.yml'),
      [
        'hermes:',
        '  settings: { model: from/group-vars }',
        '  documents: { SOUL.md: "deployed from an INI inventory" }',
        '  healthCheck: { seconds: 1 }',
        '',
      ].join('\n'),
    );
    // host_vars as a directory of files: its hermes replaces the group's whole (Ansible's rule).
    writeFileSync(
      join(dir, 'host_vars', 'host2', 'hermes.yml'),
      'hermes:\n  settings: { model: from/host-vars }\n  healthCheck: { seconds: 1 }\n',
    );
    const inventory = join(dir, 'hosts.ini');

    const shown = await runCli(['inventory', '-i', inventory, '--json']);
    expect(shown.code, shown.all).toBe(0);
    const resolved = JSON.parse(shown.stdout) as Record<
      string,
      { ssh: Record<string, unknown>; hermes: { settings: { model?: string } } }
    >;
    expect(resolved.host1?.ssh).toMatchObject({ user: 'deploy', become: 'sudo' });
    expect(resolved.host2?.hermes.settings.model).toBe('from/host-vars');

    const since = (await fleet.ssh(1, 'date +%s')).stdout.trim();
    const first = await runCli(['run', '-i', inventory, '--json']);
    expect(first.code, first.all).toBe(0);
    expect(report(first.stdout).hosts.map((h) => h.status)).toEqual(['changed', 'changed']);
    expect((await fleet.standinRecord(1))?.config.model).toBe('from/group-vars');
    expect((await fleet.standinRecord(2))?.config.model).toBe('from/host-vars');
    expect((await fleet.standinRecord(1))?.user).toBe('hermes');
    expect(await fleet.read(1, '/var/lib/hermes/workspace/SOUL.md')).toBe(
      'deployed from an INI inventory',
    );
    // host2's own hermes replaced the group's: no SOUL.md from the group there.
    expect(await fleet.read(2, '/var/lib/hermes/workspace/SOUL.md')).toBeNull();
    // The deploy went through deploy's sudo, as ansible_become asked.
    const sudo = await fleet.ssh(
      1,
      `journalctl _COMM=sudo --since=@${since} --no-pager -o cat | grep -c '^ *deploy : '`,
    );
    expect(Number(sudo.stdout.trim()), sudo.stdout + sudo.stderr).toBeGreaterThan(0);

    const again = await runCli(['run', '-i', inventory, '--json']);
    expect(again.code, again.all).toBe(0);
    expect(report(again.stdout).hosts.map((h) => h.status)).toEqual(['ok', 'ok']);
  });

  it('deploys from an executable inventory script (the --list protocol with _meta)', async () => {
    const dir = join(work, 'dynamic');
    mkdirSync(join(dir, 'group_vars'), { recursive: true });
    const script = join(dir, 'cloud.py');
    const hostvars = Object.fromEntries(
      [1, 2].map((i) => [
        `gw-${i}`,
        {
          ansible_host: fleet.hostAddress(i),
          ansible_user: 'root',
          ansible_ssh_private_key_file: fleet.paths.key,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${fleet.paths.knownHosts}`,
        },
      ]),
    );
    writeFileSync(
      script,
      [
        '#!/usr/bin/env python3',
        '# A dynamic inventory as a cloud would print it.',
        'import json, sys',
        'if sys.argv[1:] == ["--list"]:',
        `    print(json.dumps({"_meta": {"hostvars": ${JSON.stringify(hostvars)}},`,
        '                      "tag_gateway": {"hosts": ["gw-1", "gw-2"]},',
        // eu sorts before tag_gateway; its priority makes its group_vars win, as in Ansible.
        '                      "eu": {"hosts": ["gw-2"], "vars": {"ansible_group_priority": 10}}}))',
        'else:',
        '    print("{}")',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    writeFileSync(
      join(dir, 'group_vars', 'tag_gateway.yml'),
      'hermes:\n  settings: { model: from/dynamic }\n  healthCheck: { seconds: 1 }\n',
    );
    writeFileSync(
      join(dir, 'group_vars', 'eu.yml'),
      'hermes:\n  settings: { model: from/dynamic-eu }\n  healthCheck: { seconds: 1 }\n',
    );

    const run = await runCli(['run', '-i', script, '--limit', 'tag_gateway:!eu', '--json']);
    expect(run.code, run.all).toBe(0);
    expect(report(run.stdout).hosts.map((h) => [h.host, h.status])).toEqual([['gw-1', 'changed']]);
    expect((await fleet.standinRecord(1))?.config.model).toBe('from/dynamic');

    const all = await runCli(['run', '-i', script, '--json']);
    expect(all.code, all.all).toBe(0);
    expect((await fleet.standinRecord(2))?.config.model).toBe('from/dynamic-eu');

    // A failing script stops the run before any host is contacted, with its stderr.
    const broken = join(dir, 'broken.sh');
    writeFileSync(broken, '#!/bin/sh\necho "token expired" >&2\nexit 2\n');
    chmodSync(broken, 0o755);
    const failed = await runCli(['run', '-i', broken]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/exit code 2/);
    expect(failed.stderr).toMatch(/token expired/);
  });
});
