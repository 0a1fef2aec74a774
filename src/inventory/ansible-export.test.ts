import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportAnsible } from './ansible-export.js';
import { showHost } from './render.js';
import { loadInventory } from './load.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hermes-fleet-export-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const HERMES_YAML = `all:
  vars:
    ssh: { user: deploy, identityFile: keys/id_ed25519, jump: 'ops@bastion:2200', hostKeyPolicy: accept-new }
    hermes:
      settings: { model: m, compression: { enabled: true, threshold: 0.5 } }
      secrets: { KEY: { file: secrets/key.txt } }
      documents: { SOUL.md: 'Be brief.' }
  hosts:
    edge1: { ssh: { host: 203.0.113.10, port: 2222 } }
  children:
    eu:
      vars:
        hermes: { settings: { compression: { threshold: 0.9 } }, restartSec: 9 }
      hosts:
        eu-[01:03]:
      children:
        canary:
          hosts:
            eu-01: { ssh: { become: none, user: root } }
    us:
      hosts:
        us1:
        eu-03:
`;

function hasAnsible(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v ansible-inventory'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('hermes-fleet inventory --export-ansible', () => {
  const source = path.join(dir, 'hosts.yaml');
  mkdirSync(path.join(dir, 'secrets'), { recursive: true });
  writeFileSync(source, HERMES_YAML);
  writeFileSync(path.join(dir, 'secrets', 'key.txt'), 'not-a-real-key\n');

  it('reads back to the same hosts, groups and settings', async () => {
    const { text, warnings } = await exportAnsible([source]);
    expect(warnings).toEqual([]);
    const exported = path.join(dir, 'exported.yml');
    writeFileSync(exported, text);
    const before = await loadInventory([source], { resolveSecrets: false });
    const after = await loadInventory([exported], { resolveSecrets: false, warn: () => {} });
    expect(after.hosts.map((h) => h.name).sort()).toEqual(before.hosts.map((h) => h.name).sort());
    for (const host of before.hosts) {
      const again = after.hosts.find((h) => h.name === host.name);
      const shown = showHost(host);
      const shownAgain = again ? showHost(again) : {};
      // Ansible adds its implicit `ungrouped` group for hosts listed in no group.
      const groupsAgain = again?.groups.filter((g) => g !== 'ungrouped').sort();
      expect({ ...shownAgain, groups: groupsAgain }, host.name).toEqual({
        ...shown,
        groups: host.groups.sort(),
      });
    }
    // Settings equal on every host are written once.
    expect(text).toMatch(/^ {2}vars:\n {4}ansible_ssh_private_key_file: \/.*\/keys\/id_ed25519$/m);
  });

  it.skipIf(!hasAnsible())(
    'is an inventory ansible-inventory reads with the same hosts',
    async () => {
      const { text } = await exportAnsible([source]);
      const exported = path.join(dir, 'for-ansible.yml');
      writeFileSync(exported, text);
      const listed = JSON.parse(
        execFileSync('ansible-inventory', ['-i', exported, '--list'], {
          cwd: dir,
          env: { ...process.env, ANSIBLE_CONFIG: path.join(dir, 'none.cfg') },
        }).toString(),
      ) as { _meta: { hostvars: Record<string, { ansible_port?: number }> } };
      expect(Object.keys(listed._meta.hostvars).sort()).toEqual(
        ['edge1', 'eu-01', 'eu-02', 'eu-03', 'us1'].sort(),
      );
      expect(listed._meta.hostvars.edge1?.ansible_port).toBe(2222);
    },
  );

  const haveJq = (() => {
    try {
      execFileSync('sh', ['-c', 'command -v jq'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasAnsible() || !haveJq)(
    'the documented reverse one-liner gives hermes-fleet YAML',
    async () => {
      // The line as docs/inventory.md writes it, so the docs stay true.
      const docs = readFileSync(path.join(import.meta.dirname, '../../docs/inventory.md'), 'utf8');
      const line = /^ansible-inventory -i hosts\.ini --list \| jq .*$/m.exec(docs)?.[0];
      expect(line).toBeDefined();
      const ansibleDir = path.join(dir, 'reverse', 'ansible');
      mkdirSync(path.join(ansibleDir, 'group_vars'), { recursive: true });
      mkdirSync(path.join(dir, 'reverse', 'hermes'), { recursive: true });
      writeFileSync(
        path.join(ansibleDir, 'hosts.ini'),
        '[web]\nw1 ansible_host=192.0.2.1 ansible_user=deploy ansible_become=true\nw2 ansible_port=2222\n',
      );
      writeFileSync(
        path.join(ansibleDir, 'group_vars', 'web.yml'),
        'hermes:\n  settings: { model: m }\n',
      );
      execFileSync('sh', ['-c', line ?? 'false'], {
        cwd: ansibleDir,
        env: { ...process.env, ANSIBLE_CONFIG: path.join(dir, 'none.cfg') },
      });
      const converted = path.join(dir, 'reverse', 'hermes', 'hosts.json');
      const fromAnsible = await loadInventory([path.join(ansibleDir, 'hosts.ini')], {
        resolveSecrets: false,
      });
      const fromHermes = await loadInventory([converted], { resolveSecrets: false });
      expect(fromHermes.hosts.map((h) => [h.name, h.ssh, h.hermes])).toEqual(
        fromAnsible.hosts.map((h) => [h.name, h.ssh, h.hermes]),
      );
    },
  );

  it('refuses an inventory that already is Ansible', async () => {
    const ini = path.join(dir, 'hosts.ini');
    writeFileSync(ini, '[web]\nw1\n');
    await expect(exportAnsible([ini])).rejects.toThrow(/already an Ansible inventory/);
  });
});
