import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { loadInventory } from './load.js';
import type { Inventory } from './types.js';

async function load(
  files: Record<string, string>,
  options: { extraVars?: string[]; env?: NodeJS.ProcessEnv; main?: string[] } = {},
): Promise<Inventory> {
  const dir = fixtureDir(files);
  const main = options.main ?? ['inv.yaml'];
  return loadInventory(
    main.map((name) => join(dir, name)),
    { extraVars: options.extraVars ?? [], env: options.env ?? {}, cwd: dir },
  );
}

function host(inventory: Inventory, name: string) {
  const found = inventory.hosts.find((h) => h.name === name);
  if (!found) throw new Error(`no host ${name}`);
  return found;
}

describe('precedence', () => {
  const yaml = `
all:
  vars:
    ssh: { user: deploy, port: 22 }
    hermes:
      restartSec: 1
      settings: { model: base, toolsets: [all], nested: { a: 1, b: 1 } }
      environment: { LEVEL: all, KEEP: yes, FLAG: true, NUM: 8080 }
  hosts:
    solo:
  children:
    outer:
      vars:
        hermes:
          restartSec: 2
          settings: { model: outer, toolsets: [x, y], nested: { b: 2 } }
          environment: { LEVEL: outer }
      children:
        inner:
          vars:
            hermes: { restartSec: 3, settings: { model: inner } }
          hosts:
            web1:
              hermes: { settings: { model: host, nested: { c: 3 } } }
            web2:
        sibling2:
          vars:
            hermes: { restartSec: 4 }
          hosts:
            web2:
`;
  it('applies all.vars, then outer groups, then inner groups, then the host entry', async () => {
    const inv = await load({ 'inv.yaml': yaml });
    const web1 = host(inv, 'web1');
    expect(web1.groups).toEqual(['all', 'outer', 'inner']);
    expect(web1.hermes.settings).toEqual({
      model: 'host',
      toolsets: ['x', 'y'],
      nested: { a: 1, b: 2, c: 3 },
    });
    expect(web1.hermes.restartSec).toBe(3);
    expect(web1.hermes.environment).toEqual({
      LEVEL: 'outer',
      KEEP: 'yes',
      FLAG: 'true',
      NUM: '8080',
    });
    expect(web1.ssh).toEqual({ user: 'deploy', port: 22 });
    expect(host(inv, 'solo').hermes.settings).toEqual({
      model: 'base',
      toolsets: ['all'],
      nested: { a: 1, b: 1 },
    });
  });

  it('orders siblings at the same depth by file order, later winning', async () => {
    const inv = await load({ 'inv.yaml': yaml });
    const web2 = host(inv, 'web2');
    expect(web2.groups).toEqual(['all', 'outer', 'inner', 'sibling2']);
    expect(web2.hermes.restartSec).toBe(4);
  });

  it('lets -e win over everything, values parsed as YAML', async () => {
    const inv = await load(
      { 'inv.yaml': yaml },
      {
        extraVars: [
          'hermes.settings.model=cli',
          'hermes.restartSec=9',
          'hermes.settings.nested.d=[1, 2]',
          'hermes.documents.SOUL.md=from the command line',
        ],
      },
    );
    const web1 = host(inv, 'web1');
    expect(web1.hermes.settings.model).toBe('cli');
    expect(web1.hermes.settings.nested).toEqual({ a: 1, b: 2, c: 3, d: [1, 2] });
    expect(web1.hermes.restartSec).toBe(9);
    expect(web1.hermes.documents).toEqual({ 'SOUL.md': 'from the command line' });
  });

  it('reads -e @file.yaml with the same schema', async () => {
    const dir = fixtureDir({
      'inv.yaml': yaml,
      'over.yaml': 'hermes:\n  settings: { model: file }\n',
    });
    const inv = await loadInventory([join(dir, 'inv.yaml')], {
      extraVars: [`@${join(dir, 'over.yaml')}`, 'hermes.restartSec=8'],
      env: {},
    });
    expect(host(inv, 'web1').hermes.settings.model).toBe('file');
    expect(host(inv, 'web1').hermes.restartSec).toBe(8);
  });

  it('combines several files: later files add hosts and override the same group', async () => {
    const inv = await load(
      {
        'inv.yaml': yaml,
        'more.yaml': `
all:
  vars:
    hermes: { settings: { model: second-file } }
  hosts:
    extra1:
  children:
    inner:
      vars:
        hermes: { restartSec: 7 }
`,
      },
      { main: ['inv.yaml', 'more.yaml'] },
    );
    expect(inv.hosts.map((h) => h.name)).toEqual(['solo', 'web1', 'web2', 'extra1']);
    expect(host(inv, 'solo').hermes.settings.model).toBe('second-file');
    expect(host(inv, 'web1').hermes.restartSec).toBe(7);
    expect(host(inv, 'extra1').hermes.settings.model).toBe('second-file');
    expect(inv.groups.get('inner')).toEqual(['web1', 'web2']);
    expect(inv.groups.get('all')).toEqual(['solo', 'web1', 'web2', 'extra1']);
  });
});

describe('defaults and resolution', () => {
  it('applies every hermes default and keeps unset ssh keys unset', async () => {
    const inv = await load({ 'inv.yaml': 'all:\n  hosts:\n    web1:\n' });
    const web1 = host(inv, 'web1');
    expect(web1.ssh).toEqual({});
    expect(web1.hermes).toEqual({
      package: '/opt/hermes',
      user: 'hermes',
      group: 'hermes',
      createUser: true,
      stateDir: '/var/lib/hermes',
      workingDirectory: '/var/lib/hermes/workspace',
      settings: {},
      mcpServers: {},
      environment: {},
      secrets: {},
      environmentFiles: [],
      authFileForceOverwrite: false,
      documents: {},
      extraPackages: [],
      extraPlugins: [],
      extraArgs: [],
      restart: 'always',
      restartSec: 5,
      healthCheck: { seconds: 3 },
      generations: { keep: 10 },
      addToSystemPackages: false,
      container: {
        enable: false,
        backend: 'docker',
        image: 'ubuntu:24.04',
        extraVolumes: [],
        extraOptions: [],
        hostUsers: [],
      },
    });
  });

  it('computes workingDirectory from the merged stateDir', async () => {
    const inv = await load({
      'inv.yaml': `
all:
  vars: { hermes: { stateDir: /srv/hermes } }
  hosts:
    web1:
    web2: { hermes: { workingDirectory: /work } }
`,
    });
    expect(host(inv, 'web1').hermes.workingDirectory).toBe('/srv/hermes/workspace');
    expect(host(inv, 'web2').hermes.workingDirectory).toBe('/work');
  });

  it('accepts quotes and $ in environmentFiles, which never go into a unit', async () => {
    const inv = await load({
      'inv.yaml': `
all:
  hosts:
    web1: { hermes: { environmentFiles: ["/run/secrets/it's $x.env"] } }
`,
    });
    expect(host(inv, 'web1').hermes.environmentFiles).toEqual(["/run/secrets/it's $x.env"]);
  });

  it('resolves local references relative to the file that names them', async () => {
    const dir = fixtureDir({
      'sub/inv.yaml': `
all:
  vars:
    ssh: { identityFile: keys/id, knownHosts: ~/kh }
    hermes:
      configFile: conf/config.yaml
      authFile: auth.json
      documents:
        USER.md: { file: docs/USER.md }
        SOUL.md: inline soul
      secrets:
        TOKEN: { file: secret.token }
        KEY: { env: API_KEY }
        CMD: { command: "echo from-command" }
  hosts:
    web1:
`,
      'sub/conf/config.yaml': 'model: x\n',
      'sub/auth.json': '{"token": 1}\n',
      'sub/docs/USER.md': '# user\n',
      'sub/secret.token': 'tok-123\n',
      'other.yaml': `
all:
  hosts:
    web2:
      hermes:
        documents: { USER.md: { file: sub/docs/USER.md } }
`,
    });
    const inv = await loadInventory([join(dir, 'sub/inv.yaml'), join(dir, 'other.yaml')], {
      env: { API_KEY: 'key-456', HOME: '/home/x' },
    });
    const web1 = host(inv, 'web1');
    expect(web1.ssh.identityFile).toBe(join(dir, 'sub/keys/id'));
    expect(web1.ssh.knownHosts?.endsWith('/kh')).toBe(true);
    expect(web1.hermes.configFile).toEqual({
      path: join(dir, 'sub/conf/config.yaml'),
      content: 'model: x\n',
    });
    expect(web1.hermes.authFile?.reveal()).toBe('{"token": 1}');
    expect(web1.hermes.authFile?.source).toBe('file auth.json');
    expect(web1.hermes.documents).toEqual({ 'USER.md': '# user\n', 'SOUL.md': 'inline soul' });
    expect(web1.hermes.secrets.TOKEN?.reveal()).toBe('tok-123');
    expect(web1.hermes.secrets.TOKEN?.source).toBe('file secret.token');
    expect(web1.hermes.secrets.KEY?.reveal()).toBe('key-456');
    expect(web1.hermes.secrets.KEY?.source).toBe('env API_KEY');
    expect(web1.hermes.secrets.CMD?.reveal()).toBe('from-command');
    expect(web1.hermes.secrets.CMD?.source).toBe('command echo from-command');
    expect(host(inv, 'web2').hermes.documents['USER.md']).toBe('# user\n');
  });

  it('does not evaluate secrets when resolveSecrets is false', async () => {
    const dir = fixtureDir({
      'inv.yaml': `
all:
  hosts:
    web1:
      hermes:
        secrets:
          A: { env: NOT_SET_ANYWHERE }
          B: { command: "exit 1" }
          C: { file: missing.token }
        authFile: missing.json
`,
    });
    const inv = await loadInventory([join(dir, 'inv.yaml')], { env: {}, resolveSecrets: false });
    const { secrets, authFile } = host(inv, 'web1').hermes;
    expect(secrets.A?.source).toBe('env NOT_SET_ANYWHERE');
    expect(secrets.A?.reveal()).toBe('');
    expect(secrets.B?.source).toBe('command exit 1');
    expect(authFile?.source).toBe('file missing.json');
  });

  it('runs a secret command shared by many hosts once', async () => {
    const dir = fixtureDir({
      'inv.yaml': `
all:
  vars:
    hermes:
      secrets: { S: { command: "echo x >> count; echo value" } }
  hosts:
    web[01:30]:
`,
    });
    const inv = await loadInventory([join(dir, 'inv.yaml')], { env: {} });
    expect(inv.hosts).toHaveLength(30);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('x\n');
  });

  it('merges mcpServers and keeps their fields', async () => {
    const inv = await load({
      'inv.yaml': `
all:
  vars:
    hermes:
      mcpServers:
        fs: { command: npx, args: [-y, server], env: { A: b } }
        remote: { url: "https://x/mcp", auth: oauth, sampling: { enabled: true, max_rpm: 5, log_level: info } }
  hosts:
    web1:
      hermes:
        mcpServers:
          fs: { args: [other], tools: { include: [read] } }
`,
    });
    expect(host(inv, 'web1').hermes.mcpServers).toEqual({
      fs: { command: 'npx', args: ['other'], env: { A: 'b' }, tools: { include: ['read'] } },
      remote: {
        url: 'https://x/mcp',
        auth: 'oauth',
        sampling: { enabled: true, max_rpm: 5, log_level: 'info' },
      },
    });
  });
});

describe('hosts and groups', () => {
  it('expands ranges, keeps inventory order and lets a host sit in several groups', async () => {
    const inv = await load({
      'inv.yaml': `
all:
  hosts:
    edge:
  children:
    web:
      hosts:
        web[08:10]:
    db:
      hosts:
        db-[a:b]:
        web09:
`,
    });
    expect(inv.hosts.map((h) => h.name)).toEqual([
      'edge',
      'web08',
      'web09',
      'web10',
      'db-a',
      'db-b',
    ]);
    expect(host(inv, 'web09').groups).toEqual(['all', 'web', 'db']);
    expect(inv.groups.get('db')).toEqual(['web09', 'db-a', 'db-b']);
  });

  it('accepts empty host entries and empty sections', async () => {
    const inv = await load({
      'inv.yaml': 'all:\n  vars:\n  children:\n    empty:\n  hosts:\n    a: {}\n    b:\n',
    });
    expect(inv.hosts.map((h) => h.name)).toEqual(['a', 'b']);
    expect(inv.groups.get('empty')).toEqual([]);
  });
});

describe('container.imageArchive', () => {
  const yaml = `
all:
  vars:
    hermes:
      container: { enable: true, imageArchive: images/hermes.tar }
  hosts:
    a:
    b:
    off:
      hermes: { container: { enable: false } }
`;

  it('is read once, relative to the inventory, for every host whose container runs', async () => {
    const dir = fixtureDir({
      'inv.yaml': yaml,
      'src/manifest.json': '[{"Config":"c.json","Layers":[]}]',
      'src/c.json': '{"config":{}}',
    });
    mkdirSync(join(dir, 'images'));
    execFileSync('tar', ['-cf', join(dir, 'images', 'hermes.tar'), '-C', join(dir, 'src'), '.']);
    const inv = await loadInventory([join(dir, 'inv.yaml')], { extraVars: [], env: {}, cwd: dir });
    const a = host(inv, 'a').hermes.container.imageArchive;
    expect(a?.path).toBe(join(dir, 'images', 'hermes.tar'));
    expect(a?.written).toBe('images/hermes.tar');
    expect(a?.id).toBe(`sha256:${createHash('sha256').update('{"config":{}}').digest('hex')}`);
    expect(host(inv, 'b').hermes.container.imageArchive).toBe(a);
    // A host that runs no container does not need the archive: it is not even read for it.
    expect(host(inv, 'off').hermes.container.imageArchive).toBeUndefined();
  });
});
