import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configValuesFrom,
  expandPathTokens,
  parseSshGOutput,
  SSH_CONFIG_ENV,
} from './ssh-config.js';
import { parseJumpSpec, resolveSshTarget } from './ssh-target.js';

function hasSsh(): boolean {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const me = userInfo().username;
const root = mkdtempSync(join(tmpdir(), 'hermes-fleet-home-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
let home: string;
const saved = { HOME: process.env.HOME, config: process.env[SSH_CONFIG_ENV] };

beforeEach(() => {
  // A home without ~/.ssh/config, so only what a test writes is in effect.
  home = mkdtempSync(join(root, 'home-'));
  process.env.HOME = home;
  Reflect.deleteProperty(process.env, SSH_CONFIG_ENV);
});

afterEach(() => {
  if (saved.HOME === undefined) Reflect.deleteProperty(process.env, 'HOME');
  else process.env.HOME = saved.HOME;
  if (saved.config === undefined) Reflect.deleteProperty(process.env, SSH_CONFIG_ENV);
  else process.env[SSH_CONFIG_ENV] = saved.config;
});

function useConfig(text: string): string {
  const file = join(mkdtempSync(join(root, 'sshcfg-')), 'config');
  writeFileSync(file, text);
  process.env[SSH_CONFIG_ENV] = file;
  return file;
}

describe('parseJumpSpec', () => {
  it('reads [user@]host[:port] chains like ProxyJump', () => {
    expect(parseJumpSpec('bastion')).toEqual([{ host: 'bastion' }]);
    expect(parseJumpSpec('ops@bastion:2200')).toEqual([
      { host: 'bastion', user: 'ops', port: 2200 },
    ]);
    expect(parseJumpSpec('a@one:2201, two ,three:22')).toEqual([
      { host: 'one', user: 'a', port: 2201 },
      { host: 'two' },
      { host: 'three', port: 22 },
    ]);
    expect(parseJumpSpec('ssh://u@h:2222')).toEqual([{ host: 'h', user: 'u', port: 2222 }]);
    expect(parseJumpSpec('[2001:db8::1]:2222')).toEqual([{ host: '2001:db8::1', port: 2222 }]);
    expect(parseJumpSpec('none')).toEqual([]);
    expect(parseJumpSpec('')).toEqual([]);
  });

  it('rejects nonsense with a hint', () => {
    expect(() => parseJumpSpec('host:port')).toThrow(/bad port/);
    expect(() => parseJumpSpec('host:70000')).toThrow(/bad port/);
    expect(() => parseJumpSpec('@host')).toThrow(/empty user/);
    expect(() => parseJumpSpec('a,,b')).toThrow(/no host/);
  });
});

describe('ssh -G output', () => {
  const defaults = parseSshGOutput(
    [
      'identityfile ~/.ssh/id_rsa',
      'identityfile ~/.ssh/id_ed25519',
      `userknownhostsfile /home/x/.ssh/known_hosts /home/x/.ssh/known_hosts2`,
    ].join('\n'),
  );

  it('keeps repeated keys and lowercases names', () => {
    const options = parseSshGOutput('User deploy\nidentityfile a\nidentityfile b\n\nport 22\n');
    expect(options.get('user')).toEqual(['deploy']);
    expect(options.get('identityfile')).toEqual(['a', 'b']);
  });

  it('treats values equal to OpenSSH defaults as unset', () => {
    const options = parseSshGOutput(
      [
        'hostname web1',
        'user root',
        'port 22',
        'identityfile ~/.ssh/id_rsa',
        'identityfile ~/.ssh/id_ed25519',
        'userknownhostsfile /home/x/.ssh/known_hosts /home/x/.ssh/known_hosts2',
        'stricthostkeychecking ask',
        'connecttimeout none',
      ].join('\n'),
    );
    expect(configValuesFrom('web1', options, defaults)).toEqual({
      hostname: 'web1',
      user: 'root',
      port: 22,
    });
  });

  it('maps what the config set', () => {
    const options = parseSshGOutput(
      [
        'hostname web1.example.net',
        'user deploy',
        'port 2222',
        'identityfile ~/.ssh/deploy_%r_%h',
        'userknownhostsfile /tmp/kh /tmp/kh2',
        'stricthostkeychecking true',
        'connecttimeout 7',
        'proxyjump ops@bastion:2200',
        'hostkeyalias web-alias',
      ].join('\n'),
    );
    expect(configValuesFrom('web1', options, defaults)).toEqual({
      hostname: 'web1.example.net',
      user: 'deploy',
      port: 2222,
      identityFiles: [join(homedir(), '.ssh', 'deploy_deploy_web1.example.net')],
      knownHostsFiles: ['/tmp/kh', '/tmp/kh2'],
      hostKeyPolicy: 'strict',
      connectTimeout: 7,
      proxyJump: 'ops@bastion:2200',
      hostKeyAlias: 'web-alias',
    });
    for (const [value, policy] of [
      ['false', 'off'],
      ['accept-new', 'accept-new'],
      ['ask', undefined],
    ] as const) {
      const values = configValuesFrom(
        'x',
        parseSshGOutput(`stricthostkeychecking ${value}`),
        defaults,
      );
      expect(values.hostKeyPolicy).toBe(policy);
    }
  });

  it('expands ~ and % tokens in paths', () => {
    const context = { alias: 'w', hostname: 'w.example', port: 2200, user: 'ops' };
    expect(expandPathTokens('~/.ssh/%r@%h:%p-%n-%u-%%', context)).toBe(
      join(homedir(), '.ssh', `ops@w.example:2200-w-${me}-%`),
    );
    expect(expandPathTokens('%d/k', context)).toBe(`${homedir()}/k`);
  });
});

describe('resolveSshTarget', () => {
  it('applies defaults when there is no ssh config', async () => {
    const target = await resolveSshTarget('web1', {});
    expect(target).toEqual({
      name: 'web1',
      host: 'web1',
      port: 22,
      user: me,
      identityFiles: [],
      become: me === 'root' ? 'none' : 'sudo',
      connectTimeout: 10,
      knownHosts: join(home, '.ssh', 'known_hosts'),
      hostKeyPolicy: 'strict',
      jump: [],
      warnings: [],
    });
  });

  it('finds the default identity files that exist, in OpenSSH order', async () => {
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_rsa'), 'x');
    writeFileSync(join(home, '.ssh', 'id_ed25519'), 'x');
    const target = await resolveSshTarget('web1', {});
    expect(target.identityFiles).toEqual([
      join(home, '.ssh', 'id_ed25519'),
      join(home, '.ssh', 'id_rsa'),
    ]);
  });

  it('uses the inventory settings as given', async () => {
    const target = await resolveSshTarget('web1', {
      host: '203.0.113.10',
      port: 2222,
      user: 'deploy',
      identityFile: '/keys/deploy',
      knownHosts: '/tmp/kh',
      hostKeyPolicy: 'accept-new',
      jump: 'ops@bastion:2200',
      connectTimeout: 3,
      passphraseEnv: 'DEPLOY_KEY_PASSPHRASE',
    });
    expect(target).toMatchObject({
      name: 'web1',
      host: '203.0.113.10',
      port: 2222,
      user: 'deploy',
      become: 'sudo',
      identityFiles: ['/keys/deploy'],
      knownHosts: '/tmp/kh',
      hostKeyPolicy: 'accept-new',
      connectTimeout: 3,
      passphraseEnv: 'DEPLOY_KEY_PASSPHRASE',
      jump: [{ host: 'bastion', port: 2200, user: 'ops', identityFiles: ['/keys/deploy'] }],
    });
    const root = await resolveSshTarget('web1', { user: 'root' });
    expect(root.become).toBe('none');
    const forced = await resolveSshTarget('web1', { user: 'root', become: 'sudo' });
    expect(forced.become).toBe('sudo');
  });

  it.skipIf(!hasSsh())(
    'fills what the inventory leaves unset from the ssh config, through ssh -G',
    async () => {
      useConfig(
        [
          'Host bastion',
          '  HostName bastion.internal',
          '  User jumper',
          '  Port 2201',
          '  IdentityFile ~/.ssh/bastion_key',
          '',
          'Host web*',
          '  HostName %h.example.net',
          '  User deploy',
          '  Port 2222',
          '  IdentityFile ~/.ssh/deploy_%r',
          '  ProxyJump bastion',
          '  StrictHostKeyChecking accept-new',
          '  UserKnownHostsFile /tmp/fleet_known_hosts',
          '  ConnectTimeout 7',
          '',
          'Host db1',
          '  ProxyCommand nc %h %p',
          '',
        ].join('\n'),
      );
      const target = await resolveSshTarget('web1', {});
      expect(target).toMatchObject({
        host: 'web1.example.net',
        port: 2222,
        user: 'deploy',
        become: 'sudo',
        identityFiles: [join(home, '.ssh', 'deploy_deploy')],
        hostKeyPolicy: 'accept-new',
        knownHosts: '/tmp/fleet_known_hosts',
        connectTimeout: 7,
        jump: [
          {
            host: 'bastion.internal',
            port: 2201,
            user: 'jumper',
            identityFiles: [join(home, '.ssh', 'bastion_key')],
          },
        ],
      });

      // The inventory wins over the config; the config still picks the host's HostName.
      const overridden = await resolveSshTarget('web1', {
        user: 'admin',
        port: 22,
        hostKeyPolicy: 'strict',
        jump: 'none',
      });
      expect(overridden).toMatchObject({
        host: 'web1.example.net',
        port: 22,
        user: 'admin',
        hostKeyPolicy: 'strict',
        jump: [],
        identityFiles: [join(home, '.ssh', 'deploy_admin')],
      });

      // The inventory `host` is what one would type after `ssh`.
      const byHost = await resolveSshTarget('app', { host: 'web7' });
      expect(byHost.host).toBe('web7.example.net');

      // A jump host named in the inventory is resolved through the config too; without a user of
      // its own it logs in as the config (or local) user, as ssh -J does.
      const viaInventoryJump = await resolveSshTarget('other', { jump: 'bastion,plain:2022' });
      expect(viaInventoryJump.jump).toMatchObject([
        { host: 'bastion.internal', port: 2201, user: 'jumper' },
        { host: 'plain', port: 2022, user: me },
      ]);

      const unmatched = await resolveSshTarget('other', {});
      expect(unmatched).toMatchObject({
        host: 'other',
        port: 22,
        user: me,
        hostKeyPolicy: 'strict',
        jump: [],
      });

      const proxied = await resolveSshTarget('db1', {});
      expect(proxied.warnings.join('\n')).toMatch(/ProxyCommand/);
    },
  );

  it.skipIf(!hasSsh())('follows the first bastion’s own ProxyJump and stops loops', async () => {
    useConfig(
      [
        'Host inner',
        '  ProxyJump outer',
        'Host outer',
        '  User o',
        'Host loop1',
        '  ProxyJump loop2',
        'Host loop2',
        '  ProxyJump loop1',
        '',
      ].join('\n'),
    );
    const target = await resolveSshTarget('web1', { jump: 'inner' });
    expect(target.jump.map((hop) => `${hop.user}@${hop.host}`)).toEqual(['o@outer', `${me}@inner`]);
    await expect(resolveSshTarget('web1', { jump: 'loop1' })).rejects.toThrow(/loop/);
  });

  it.skipIf(!hasSsh())('reports a broken ssh config as a user error', async () => {
    useConfig('Host *\n  NoSuchOption yes\n');
    await expect(resolveSshTarget('web1', {})).rejects.toThrow(
      /ssh -G .*failed: .*NoSuchOption|Bad configuration option/i,
    );
  });

  it('rejects a missing HERMES_FLEET_SSH_CONFIG file', async () => {
    process.env[SSH_CONFIG_ENV] = join(home, 'nope');
    await expect(resolveSshTarget('web1', {})).rejects.toThrow(/does not exist/);
  });
});
