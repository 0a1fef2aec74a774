import {
  describePathKind,
  type Attrs,
  type FactRequest,
  type HostFacts,
} from '../src/facts/types.js';
import {
  allInstances,
  type HermesSettings,
  type HostSpec,
  type PluginSource,
} from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change, TaskPlan } from '../src/plan/types.js';
import type { Task } from '../src/plan/task.js';
import { FLEET_LIB_DIR, PLUGIN_STORE } from './lib/container.js';
import { pathFact } from './lib/facts-access.js';
import { attrsDiffer } from './lib/plan-file.js';
import { ownedPath, ownedRecord, parseOwnedPlugins, renderOwned } from './lib/fleet-owned.js';
import { generationsDir, hermesPaths, readPath, withActor } from './lib/layout.js';

/**
 * PLUGIN_STORE: root's store of plugin trees, one per id, beside the container scripts: outside
 * every tree the service account owns, so what runs in the gateway is read-only to it, as a
 * release is (the module's are in the Nix store).
 */
export { PLUGIN_STORE };
const STORE_ATTRS: Attrs = { mode: 0o755, user: 'root', group: 'root' };
/** The module links each plugin as `nix-managed-<name>`; the fleet's mark is its own. */
export const PLUGIN_LINK_PREFIX = 'fleet-managed-';

const PLUGIN_ID = /^[0-9a-f]{16}$/;
/** What apply.sh's mktemp makes in the store while an upload is unpacked. */
const UPLOAD_TEMP = /^\.hermes-fleet\.[A-Za-z0-9.]+$/;

export function pluginsDir(h: HermesSettings): string {
  return `${hermesPaths(h).hermesHome}/plugins`;
}

export function pluginLink(h: HermesSettings, name: string): string {
  return `${pluginsDir(h)}/${PLUGIN_LINK_PREFIX}${name}`;
}

export function pluginStoreDir(plugin: PluginSource): string {
  return `${PLUGIN_STORE}/${plugin.id}`;
}

/**
 * The store and its parent, root's alone (the gateway runs what is in them) and open to the
 * account to read: made when absent (0755), refused when others can write them.
 */
function planStore(facts: HostFacts): Change[] {
  const changes: Change[] = [];
  for (const path of [FLEET_LIB_DIR, PLUGIN_STORE]) {
    const fact = pathFact(facts, path);
    if (fact.kind === 'absent') {
      changes.push({ kind: 'dir', path, attrs: STORE_ATTRS, before: fact });
      continue;
    }
    const fix = `${path} must be a directory only root can write (chown root:root, chmod go-w)`;
    if (fact.kind !== 'dir') throw new PlanError(`${path} is not a directory: ${fix}`);
    if (fact.uid !== 0 || (fact.mode & 0o022) !== 0) {
      throw new PlanError(`${path} is writable by others than root: ${fix}`);
    }
    // The account must reach its plugins through it.
    if (attrsDiffer(fact, STORE_ATTRS)) {
      changes.push({ kind: 'dir', path, attrs: STORE_ATTRS, before: fact });
    }
  }
  return changes;
}

function planPlugin(h: HermesSettings, plugin: PluginSource, facts: HostFacts): Change[] {
  const changes: Change[] = [];
  const dir = pluginStoreDir(plugin);
  const stored = pathFact(facts, dir);
  if (stored.kind === 'absent') {
    changes.push({ kind: 'release-unpack', path: dir, archive: plugin, plugin: plugin.name });
  } else if (stored.kind !== 'dir') {
    throw new PlanError(`${dir} is ${describePathKind(stored)}, not a plugin directory: remove it`);
  }
  const link = pluginLink(h, plugin.name);
  const before = pathFact(facts, link);
  if (before.kind === 'symlink' && before.target === dir) return changes;
  if (before.kind !== 'absent' && before.kind !== 'symlink') {
    throw new PlanError(
      `${link} is ${describePathKind(before)}, not the link hermes-fleet makes for plugin ${plugin.name}: move it away (a plugin of your own may have any name without the ${PLUGIN_LINK_PREFIX} prefix)`,
    );
  }
  changes.push({ kind: 'symlink', path: link, target: dir, before });
  return changes;
}

/**
 * The plugin ids the generations kept on the host name, every instance's: a rollback may link
 * them again.
 */
function generationPlugins(host: HostSpec, facts: HostFacts): Set<string> {
  const kept = allInstances(host).flatMap((i) => facts.generations?.get(generationsDir(i)) ?? []);
  return new Set(kept.flatMap((g) => g.linked ?? []));
}

/**
 * Store trees no plugin of the inventory and no kept generation names, and uploads a killed
 * run left: removed (after the health check when this run links anything anew).
 */
function pluginsToPrune(host: HostSpec, facts: HostFacts): Change[] {
  // The store is the host's: a tree another instance links, or kept, stays.
  const linked = allInstances(host).flatMap((i) => i.extraPlugins.map((p) => p.id));
  const used = new Set([...linked, ...generationPlugins(host, facts)]);
  return (facts.dirEntries?.get(PLUGIN_STORE) ?? [])
    .filter((e) => UPLOAD_TEMP.test(e.name) || (PLUGIN_ID.test(e.name) && !used.has(e.name)))
    .map((e) => ({
      kind: 'release-remove',
      path: `${PLUGIN_STORE}/${e.name}`,
      why: UPLOAD_TEMP.test(e.name) ? 'left by an interrupted upload' : 'a plugin no longer used',
    }));
}

function linksChange(plan: TaskPlan | undefined): boolean {
  return plan?.changes.some((c) => c.kind === 'symlink' || c.kind === 'remove') ?? false;
}

/**
 * `extraPlugins`, as the module's declarative plugins: each plugin's tree unpacked root-owned
 * into the store under its id (the only upload, when the host lacks it), and linked into
 * HERMES_HOME/plugins as `fleet-managed-<name>` by the account (the directory is its own). A
 * plugin the inventory no longer names loses its link (the fleet's record says which it made);
 * a person's own plugins there are never touched. A changed link restarts the gateway, and a
 * generation keeps the links.
 */
export const pluginsTask: Task = {
  name: 'plugins',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    return [
      { kind: 'path', path: FLEET_LIB_DIR },
      { kind: 'path', path: PLUGIN_STORE },
      { kind: 'dir-entries', dir: PLUGIN_STORE },
      ...allInstances(host).map((i): FactRequest => ({
        kind: 'generations',
        dir: generationsDir(i),
      })),
      ...h.extraPlugins.flatMap((plugin): FactRequest[] => [
        { kind: 'path', path: pluginStoreDir(plugin) },
        readPath(h, { path: pluginLink(h, plugin.name) }),
      ]),
      readPath(h, { path: ownedPath(h, 'plugins'), content: true }),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const changes = [
      ...(h.extraPlugins.length > 0 ? planStore(facts) : []),
      ...h.extraPlugins.flatMap((plugin) => planPlugin(h, plugin, facts)),
    ];
    const record = pathFact(facts, ownedPath(h, 'plugins'));
    const owned = parseOwnedPlugins(record.kind === 'file' ? record.text : undefined);
    const now = new Set(h.extraPlugins.map((p) => p.name));
    for (const name of owned?.plugins ?? []) {
      if (now.has(name) || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) continue;
      changes.push({
        kind: 'remove',
        path: pluginLink(h, name),
        before: { kind: 'absent' },
        why: 'no longer in the inventory',
      });
    }
    const linking = changes.some((c) => c.kind === 'symlink' || c.kind === 'remove');
    // Nothing for a health check to judge: the store is tidied now.
    if (!linking) changes.push(...pluginsToPrune(host, facts));
    return changes.map((change) => withActor(h, change));
  },

  record(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const path = ownedPath(h, 'plugins');
    const owned = parseOwnedPlugins(
      ((fact) => (fact.kind === 'file' ? fact.text : undefined))(pathFact(facts, path)),
    );
    // No record and no plugins: nothing to remember, no file to write.
    if (!owned && h.extraPlugins.length === 0) return [];
    const text = renderOwned({ plugins: h.extraPlugins.map((p) => p.name) });
    return ownedRecord(h, path, pathFact(facts, path), text);
  },

  /**
   * After links changed, the unused store trees go only once the gateway passed its health
   * check: appended after it, so a rollback finds the old plugin still there.
   */
  amend(host: HostSpec, facts: HostFacts, plans: readonly TaskPlan[]): TaskPlan[] {
    if (!linksChange(plans.find((plan) => plan.task === 'plugins'))) return [...plans];
    const serviceAt = plans.findIndex(
      (plan) => plan.task === 'service' && plan.changes.some((c) => c.kind === 'wait-healthy'),
    );
    if (serviceAt < 0) return [...plans];
    const prune = pluginsToPrune(host, facts);
    return plans.map((plan, i) =>
      i === serviceAt ? { ...plan, changes: [...plan.changes, ...prune] } : plan,
    );
  },
};
