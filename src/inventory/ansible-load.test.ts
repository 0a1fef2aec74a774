import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { classifySource } from './ansible-load.js';
import { jumpFromProxyCommand } from './ansible-map.js';
import { expandAnsibleHostPattern } from './ansible-hosts.js';
import { loadInventory } from './load.js';

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function tree(files: Record<string, string>, executable: string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hermes-fleet-ansible-load-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    if (executable.includes(name)) chmodSync(file, 0o755);
  }
  return dir;
}

async function load(dir: string, source: string, warnings: string[] = []) {
  return loadInventory([path.join(dir, source)], {
    resolveSecrets: false,
    warn: (message) => warnings.push(message),
  });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).format();
  }
  throw new Error('expected a UserError');
}

describe('Ansible connection variables become the ssh settings', () => {
  it('maps host, port, user, key, ProxyJump and become', async () => {
    const dir = tree({
      'hosts.ini': [
        '[web]',
        'web1 ansible_host=192.0.2.1 ansible_port=2222',
        'web2 ansible_ssh_common_args="-o ProxyCommand=\'ssh -W %h:%p -q -p 2200 jump@192.0.2.9\'"',
        '[web:vars]',
        'ansible_user=deploy',
        'ansible_ssh_private_key_file=/keys/id_ed25519',
        'ansible_become=yes',
        "ansible_ssh_extra_args='-o StrictHostKeyChecking=accept-new -J bastion.example.com'",
      ].join('\n'),
    });
    const inventory = await load(dir, 'hosts.ini');
    const [web1, web2] = inventory.hosts;
    expect(web1?.ssh).toEqual({
      host: '192.0.2.1',
      port: 2222,
      user: 'deploy',
      identityFile: '/keys/id_ed25519',
      become: 'sudo',
      hostKeyPolicy: 'accept-new',
      jump: 'bastion.example.com',
    });
    // common_args come before extra_args on Ansible's ssh line, and ssh keeps the first value.
    expect(web2?.ssh.jump).toBe('jump@192.0.2.9:2200');
    expect(web1?.groups).toEqual(['all', 'web']);
  });

  it('reads ProxyCommand ssh -W as a bastion', () => {
    expect(jumpFromProxyCommand('ssh -W %h:%p -q admin@192.0.2.5')).toBe('admin@192.0.2.5');
    expect(jumpFromProxyCommand('ssh -p 2200 -l ops -W %h:%p bastion')).toBe('ops@bastion:2200');
    expect(jumpFromProxyCommand('nc -X connect -x proxy:8080 %h %p')).toBeUndefined();
  });

  it('takes the hermes settings from a variable hermes, replaced whole as Ansible does', async () => {
    const dir = tree({
      'hosts.ini': '[web]\nweb1\nweb2 hermes=\'{"settings": {"b": 2}}\'\n',
      'group_vars/web.yml': 'hermes:\n  restartSec: 9\n  settings: { a: 1 }\n',
    });
    const [web1, web2] = (await load(dir, 'hosts.ini')).hosts;
    expect(web1?.hermes.settings).toEqual({ a: 1 });
    expect(web1?.hermes.restartSec).toBe(9);
    // web2's own hermes replaces the group's: no restartSec 9, no a.
    expect(web2?.hermes.settings).toEqual({ b: 2 });
    expect(web2?.hermes.restartSec).toBe(5);
  });

  it('warns once per place for ansible_* variables it does not use, not for harmless ones', async () => {
    const dir = tree({
      'hosts.ini':
        '[web]\nweb[1:3]\n[web:vars]\nansible_shell_type=csh\nansible_python_interpreter=/usr/bin/python3\nansible_password=x\nhttp_port=80\n',
    });
    const warnings: string[] = [];
    await load(dir, 'hosts.ini', warnings);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/hosts\.ini:4: ansible_shell_type is not used by hermes-fleet/);
    expect(warnings[1]).toMatch(/hosts\.ini:6: ansible_password is ignored/);
  });

  it('refuses another become method or user, and a connection other than ssh, with file:line', async () => {
    const su = tree({ 'hosts.ini': 'web1\n[all:vars]\nansible_become_method=su\n' });
    expect(await failure(load(su, 'hosts.ini'))).toMatch(
      /hosts\.ini:3: ansible_become_method: ansible_become_method=su is not supported/,
    );
    const user = tree({ 'hosts.ini': 'web1 ansible_become_user=postgres\n' });
    expect(await failure(load(user, 'hosts.ini'))).toMatch(/hosts\.ini:1: .*become_user=postgres/);
    const local = tree({ 'hosts.ini': 'web1 ansible_connection=local\n' });
    expect(await failure(load(local, 'hosts.ini'))).toMatch(/ansible_connection=local/);
  });

  it('checks the hermes variable with the inventory schema, pointing at where it is written', async () => {
    const dir = tree({
      'hosts.ini': 'web1\n',
      'group_vars/all.yml': 'x: 1\nhermes:\n  restartt: 3\n',
    });
    const message = await failure(load(dir, 'hosts.ini'));
    expect(message).toMatch(/group_vars\/all\.yml:3:3: hermes\.restartt: unknown key "restartt"/);
    const port = tree({ 'hosts.ini': 'web1 ansible_port=http\n' });
    expect(await failure(load(port, 'hosts.ini'))).toMatch(/hosts\.ini:1: ansible_port: /);
  });
});

describe('errors before any host is contacted', () => {
  it('a malformed INI line, an undefined child group, :vars for no group: file:line', async () => {
    const bad = tree({ 'hosts.ini': '[web]\nweb1 notakeyvalue\n' });
    expect(await failure(load(bad, 'hosts.ini'))).toMatch(
      /hosts\.ini:2: expected key=value after the host name, got "notakeyvalue"/,
    );
    const child = tree({ 'hosts.ini': '[web]\nw1\n[prod:children]\nweb\nnope\n' });
    expect(await failure(load(child, 'hosts.ini'))).toMatch(
      /hosts\.ini:5: section \[prod:children\] includes a group defined nowhere: nope/,
    );
    const vars = tree({ 'hosts.ini': 'w1\n[ghost:vars]\na=1\n' });
    expect(await failure(load(vars, 'hosts.ini'))).toMatch(/hosts\.ini:2: section \[ghost:vars\]/);
    const section = tree({ 'hosts.ini': '[web:child]\nw1\n' });
    expect(await failure(load(section, 'hosts.ini'))).toMatch(
      /hosts\.ini:1: section .*unknown type/,
    );
    const quote = tree({ 'hosts.ini': 'w1 a="open\n' });
    expect(await failure(load(quote, 'hosts.ini'))).toMatch(/hosts\.ini:1: .*No closing quotation/);
    const range = tree({ 'hosts.ini': 'w[01:100]\n' });
    expect(await failure(load(range, 'hosts.ini'))).toMatch(
      /hosts\.ini:1: host range must specify equal-length/,
    );
  });

  it('a failing script shows its exit code and stderr; non-JSON output too', async () => {
    const dir = tree(
      {
        'fail.sh': '#!/bin/sh\necho "cannot reach the cloud API" >&2\nexit 3\n',
        'junk.sh': '#!/bin/sh\necho "not json"\necho "a warning" >&2\n',
      },
      ['fail.sh', 'junk.sh'],
    );
    const failed = await failure(load(dir, 'fail.sh'));
    expect(failed).toMatch(
      /fail\.sh: the inventory script \(.*fail\.sh --list\) failed \(exit code 3\)/,
    );
    expect(failed).toMatch(/cannot reach the cloud API/);
    const junk = await failure(load(dir, 'junk.sh'));
    expect(junk).toMatch(/printed something that is not JSON/);
    expect(junk).toMatch(/a warning/);
  });

  it('refuses mixing hermes-fleet YAML with Ansible inventories in one run', async () => {
    const dir = tree({
      'a/hosts.yaml': 'all:\n  hosts:\n    h1:\n',
      'b/hosts.ini': 'h2\n',
    });
    await expect(
      loadInventory([path.join(dir, 'a/hosts.yaml'), path.join(dir, 'b/hosts.ini')]),
    ).rejects.toThrow(/cannot be mixed/);
  });
});

describe('which reader a source needs', () => {
  it('keeps hermes-fleet YAML (and its typos) for the hermes reader', () => {
    const dir = tree({
      'hermes.yaml': 'all:\n  vars:\n    hermes: { settings: { a: 1 } }\n  hosts:\n    h1:\n',
      'typo.yaml': 'al:\n  hosts:\n    h1:\n',
      'typo2.yaml': 'all:\n  vars:\n    hermse: {}\n',
      'ansible.yaml': 'all:\n  vars:\n    ansible_user: x\n',
      'groups.yaml': 'web:\n  hosts:\n    h1:\n',
      'hosts.ini': '[web]\nh1\n',
      hosts: '[web]\nh1\n',
    });
    const kind = (name: string) => classifySource(path.join(dir, name));
    expect(kind('hermes.yaml')).toBe('hermes');
    expect(kind('typo.yaml')).toBe('hermes');
    expect(kind('typo2.yaml')).toBe('hermes');
    expect(kind('ansible.yaml')).toBe('ansible');
    expect(kind('groups.yaml')).toBe('ansible');
    expect(kind('hosts.ini')).toBe('ansible');
    expect(kind('hosts')).toBe('ansible');
    expect(classifySource(dir)).toBe('ansible');
  });

  it('reads any source with group_vars/ beside it as Ansible', () => {
    const dir = tree({
      'hosts.yaml': 'all:\n  hosts:\n    h1:\n',
      'group_vars/all.yml': 'a: 1\n',
    });
    expect(classifySource(path.join(dir, 'hosts.yaml'))).toBe('ansible');
  });
});

describe("host patterns as Ansible's file plugins expand them", () => {
  it('expands ranges with padding, letters, steps and ports', () => {
    expect(expandAnsibleHostPattern('web[01:03]').names).toEqual(['web01', 'web02', 'web03']);
    expect(expandAnsibleHostPattern('db-[a:c]:2200')).toEqual({
      names: ['db-a', 'db-b', 'db-c'],
      port: 2200,
    });
    expect(expandAnsibleHostPattern('n[1:10:4]').names).toEqual(['n1', 'n5', 'n9']);
    expect(expandAnsibleHostPattern('r[1:2]-[a:b]').names).toEqual([
      'r1-a',
      'r1-b',
      'r2-a',
      'r2-b',
    ]);
    expect(expandAnsibleHostPattern('[::1]:2222')).toEqual({ names: ['::1'], port: 2222 });
    // A reversed numeric range gives no host, as in Ansible.
    expect(expandAnsibleHostPattern('w[5:1]').names).toEqual([]);
  });
});
