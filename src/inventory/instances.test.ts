import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { UserError } from '../errors.js';
import { listeningPorts } from './instances.js';
import { loadInventory } from './load.js';
import { hostInstances, type HostSpec } from './types.js';

async function load(yaml: string, extraVars: string[] = []): Promise<HostSpec[]> {
  const dir = fixtureDir({ 'inv.yaml': yaml, 'soul.md': 'from a file' });
  const inventory = await loadInventory([join(dir, 'inv.yaml')], {
    extraVars,
    env: { TOKEN_A: 'a-secret' },
    cwd: dir,
  });
  return inventory.hosts;
}

async function loadError(yaml: string): Promise<UserError> {
  const error: unknown = await load(yaml).catch((e: unknown) => e);
  if (!(error instanceof UserError))
    throw new Error(`expected a UserError, got ${JSON.stringify(error)}`);
  return error;
}

describe('instances', () => {
  it('hermes: alone is the one unnamed instance, as before', async () => {
    const [host] = await load(
      'all:\n  hosts:\n    web1:\n      hermes: { settings: { model: m } }\n',
    );
    expect(host?.instances).toBeUndefined();
    expect(hostInstances(host as HostSpec)).toEqual([host?.hermes]);
    expect(host?.hermes.instance).toBeUndefined();
    expect(host?.hermes.stateDir).toBe('/var/lib/hermes');
  });

  it('merges hermes: under each instance, and each instance at every level', async () => {
    const [host] = await load(`
all:
  vars:
    hermes:
      settings: { model: shared, toolsets: [all] }
      secrets: { TOKEN: { env: TOKEN_A } }
    instances:
      work:
        settings: { model: work-model }
  hosts:
    web1:
      instances:
        work:
          documents: { SOUL.md: { file: soul.md } }
        personal:
          user: me
          environment: { LEVEL: debug }
`);
    const [personal, work] = host?.instances ?? [];
    expect(host?.instances?.map((h) => h.instance)).toEqual(['personal', 'work']);
    expect(work).toMatchObject({
      instance: 'work',
      stateDir: '/var/lib/hermes-work',
      workingDirectory: '/var/lib/hermes-work/workspace',
      user: 'hermes',
      settings: { model: 'work-model', toolsets: ['all'] },
      documents: { 'SOUL.md': 'from a file' },
    });
    expect(work?.secrets.TOKEN?.reveal()).toBe('a-secret');
    expect(personal).toMatchObject({
      instance: 'personal',
      stateDir: '/var/lib/hermes-personal',
      user: 'me',
      settings: { model: 'shared' },
      environment: { LEVEL: 'debug' },
    });
    expect(host?.hermes).toBe(personal);
  });

  it('takes -e for one instance', async () => {
    const [host] = await load('all:\n  hosts:\n    web1:\n      instances: { a: {}, b: {} }\n', [
      'instances.b.settings.model=from-e',
    ]);
    expect(host?.instances?.map((h) => h.settings)).toEqual([{}, { model: 'from-e' }]);
  });

  it('refuses a name a unit could not carry', async () => {
    const error = await loadError('all:\n  hosts:\n    web1:\n      instances: { Work.1: {} }\n');
    expect(error.message).toMatch(/instance name/);
  });

  it('refuses two instances with one stateDir, or one inside the other', async () => {
    const same = await loadError(`
all:
  hosts:
    web1:
      hermes: { stateDir: /srv/hermes }
      instances: { a: {}, b: {} }
`);
    expect(same.message).toMatch(/instances a and b both use \/srv\/hermes/);
    const nested = await loadError(`
all:
  hosts:
    web1:
      instances:
        a: { stateDir: /srv/a }
        b: { stateDir: /srv/a/b }
`);
    expect(nested.message).toMatch(/overlap: \/srv\/a and \/srv\/a\/b/);
  });

  it('refuses two instances that listen on the same port', async () => {
    const error = await loadError(`
all:
  hosts:
    web1:
      instances:
        a: { settings: { platforms: { api_server: { port: 8642 } } } }
        b: { settings: { webhook_port: 8642 } }
`);
    expect(error.message).toBe(
      'instances a and b both listen on port 8642 (settings.platforms.api_server.port and settings.webhook_port): the second gateway could not bind it',
    );
  });

  it('refuses what a host has one of, claimed by two instances', async () => {
    const packages = await loadError(`
all:
  hosts:
    web1:
      instances:
        a: { addToSystemPackages: true }
        b: { addToSystemPackages: true }
`);
    expect(packages.message).toMatch(/instances a and b both set addToSystemPackages/);
    const person = await loadError(`
all:
  hosts:
    web1:
      instances:
        a: { container: { hostUsers: [ana] } }
        b: { container: { hostUsers: [ana, bo] } }
`);
    expect(person.message).toMatch(/instances a and b both list ana in container.hostUsers/);
  });

  it('finds ports at any depth', () => {
    expect([...listeningPorts({ a: { port: 1 }, b_port: '2', c: { port: 'x' }, port: 0 })]).toEqual(
      [
        [1, 'a.port'],
        [2, 'b_port'],
      ],
    );
  });
});
