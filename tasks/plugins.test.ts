import { describe, expect, it } from 'vitest';
import type { PluginSource } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { containerCreateArgs } from './lib/container.js';
import { identityInputs } from './lib/container-identity.js';
import { renderOwned } from './lib/fleet-owned.js';
import { restartReasons } from './lib/restart-reasons.js';
import { PLUGIN_STORE, pluginsTask } from './plugins.js';
import {
  ABSENT,
  converge,
  dir,
  file,
  freshFacts,
  makeFacts,
  planAll,
  symlink,
} from '../test/utils/facts.js';
import type { FactsInput } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';

const PLUGINS = '/var/lib/hermes/.hermes/plugins';
const RECORD = '/var/lib/hermes/.hermes/.fleet-owned-plugins.json';
const ROOT_DIR = { mode: 0o755, user: 'root', group: 'root' };

function plugin(name: string, id: string): PluginSource {
  return {
    name,
    written: `plugins/${name}`,
    path: `/local/plugins/${name}`,
    sha256: `${id}${'0'.repeat(48)}`,
    id,
    size: 10240,
    format: 'tar',
    strip: 0,
    bytes: () => Promise.resolve(Buffer.alloc(0)),
  };
}

const LCM = plugin('lcm', '1111111111111111');
const MEMO = plugin('memo', '2222222222222222');
const host = makeHost({ extraPlugins: [LCM, MEMO] });
const plan = (input: Omit<FactsInput, 'host'>, h = host) =>
  pluginsTask.plan(h, makeFacts({ host: h, tasks: [pluginsTask], ...input }), []);
const record = (names: string[]) =>
  file(renderOwned({ plugins: names }), { mode: 0o600, user: 'hermes', group: 'hermes' });

describe('plugins', () => {
  it('unpacks each plugin root-owned into the store and links it as the account', () => {
    expect(plan({})).toEqual([
      { kind: 'dir', path: '/usr/local/lib/hermes-fleet', attrs: ROOT_DIR, before: ABSENT },
      { kind: 'dir', path: PLUGIN_STORE, attrs: ROOT_DIR, before: ABSENT },
      { kind: 'release-unpack', path: `${PLUGIN_STORE}/${LCM.id}`, archive: LCM, plugin: 'lcm' },
      {
        kind: 'symlink',
        path: `${PLUGINS}/fleet-managed-lcm`,
        target: `${PLUGIN_STORE}/${LCM.id}`,
        before: ABSENT,
        as: 'hermes',
      },
      { kind: 'release-unpack', path: `${PLUGIN_STORE}/${MEMO.id}`, archive: MEMO, plugin: 'memo' },
      {
        kind: 'symlink',
        path: `${PLUGINS}/fleet-managed-memo`,
        target: `${PLUGIN_STORE}/${MEMO.id}`,
        before: ABSENT,
        as: 'hermes',
      },
    ]);
  });

  it('converges, restarting for the links, and a second plan is empty', () => {
    const facts = converge(host, freshFacts(host));
    expect(planAll(host, facts).flatMap((p) => p.changes)).toEqual([]);
    const first = planAll(host, freshFacts(host));
    const service = first.find((p) => p.task === 'service')?.changes ?? [];
    expect(service.some((c) => c.kind === 'generation')).toBe(true);
  });

  it('relinks a changed plugin, which restarts the gateway, and uploads only the new tree', () => {
    const paths = {
      '/usr/local/lib/hermes-fleet': dir(ROOT_DIR),
      [PLUGIN_STORE]: dir(ROOT_DIR),
      [`${PLUGIN_STORE}/0000000000000000`]: dir(ROOT_DIR),
      [`${PLUGIN_STORE}/${MEMO.id}`]: dir(ROOT_DIR),
      [`${PLUGINS}/fleet-managed-lcm`]: symlink(`${PLUGIN_STORE}/0000000000000000`),
      [`${PLUGINS}/fleet-managed-memo`]: symlink(`${PLUGIN_STORE}/${MEMO.id}`),
      [RECORD]: record(['lcm', 'memo']),
    };
    const changes = plan({ paths });
    expect(changes.map((c) => c.kind)).toEqual(['release-unpack', 'symlink']);
    expect(restartReasons(host.hermes, [{ task: 'plugins', changes }])).toEqual([
      'plugin lcm changed',
    ]);
  });

  it('unlinks a plugin the inventory dropped, never a person’s own', () => {
    const only = makeHost({ extraPlugins: [LCM] });
    const paths = {
      '/usr/local/lib/hermes-fleet': dir(ROOT_DIR),
      [PLUGIN_STORE]: dir(ROOT_DIR),
      [`${PLUGIN_STORE}/${LCM.id}`]: dir(ROOT_DIR),
      [`${PLUGINS}/fleet-managed-lcm`]: symlink(`${PLUGIN_STORE}/${LCM.id}`),
      [RECORD]: record(['lcm', 'memo']),
    };
    const changes: Change[] = plan({ paths }, only);
    expect(changes).toEqual([
      {
        kind: 'remove',
        path: `${PLUGINS}/fleet-managed-memo`,
        before: ABSENT,
        why: 'no longer in the inventory',
        as: 'hermes',
      },
    ]);
    expect(restartReasons(only.hermes, [{ task: 'plugins', changes }])).toEqual([
      'plugin memo removed',
    ]);
  });

  it('prunes store trees nothing names, keeping those a kept generation links', () => {
    const only = makeHost({ extraPlugins: [LCM] });
    const facts = makeFacts({
      host: only,
      tasks: [pluginsTask],
      paths: {
        '/usr/local/lib/hermes-fleet': dir(ROOT_DIR),
        [PLUGIN_STORE]: dir(ROOT_DIR),
        [`${PLUGIN_STORE}/${LCM.id}`]: dir(ROOT_DIR),
        [`${PLUGINS}/fleet-managed-lcm`]: symlink(`${PLUGIN_STORE}/${LCM.id}`),
        [RECORD]: record(['lcm']),
      },
    });
    facts.dirEntries?.set(PLUGIN_STORE, [
      { name: LCM.id, mtimeMs: 1 },
      { name: MEMO.id, mtimeMs: 1 },
      { name: '3333333333333333', mtimeMs: 1 },
      { name: '.hermes-fleet.abc123', mtimeMs: 1 },
    ]);
    facts.generations?.set('/var/lib/hermes-fleet/generations', [{ number: 4, linked: [MEMO.id] }]);
    expect(pluginsTask.plan(only, facts, []).map((c) => 'path' in c && c.path)).toEqual([
      `${PLUGIN_STORE}/3333333333333333`,
      `${PLUGIN_STORE}/.hermes-fleet.abc123`,
    ]);
  });

  it('refuses a fleet-managed name that is not its link, and a store others can write', () => {
    expect(() => plan({ paths: { [`${PLUGINS}/fleet-managed-lcm`]: dir() } })).toThrow(PlanError);
    expect(() =>
      plan({ paths: { [PLUGIN_STORE]: dir({ mode: 0o777, user: 'root', group: 'root' }) } }),
    ).toThrow(/writable by others than root/);
  });
});

describe('plugins in container mode', () => {
  it('mounts the store read-only at its own path, so the links resolve in the container', () => {
    const withPlugins = makeHost({
      extraPlugins: [LCM],
      container: { ...makeHost().hermes.container, enable: true },
    });
    const { options } = containerCreateArgs(withPlugins.hermes);
    expect(options.join(' ')).toContain(`--volume ${PLUGIN_STORE}:${PLUGIN_STORE}:ro`);
    // Without plugins the create command, and so every existing container's identity, stays.
    const without = makeHost({ container: { ...makeHost().hermes.container, enable: true } });
    expect(containerCreateArgs(without.hermes).options.join(' ')).not.toContain(PLUGIN_STORE);
    expect(identityInputs(without.hermes)).not.toHaveProperty('pluginStore');
    expect(identityInputs(withPlugins.hermes)).toMatchObject({ pluginStore: true });
  });
});
