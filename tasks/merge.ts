import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import type { Change } from '../src/plan/types.js';
import { deepMerge, isPlainMap, mergeConfigText, toPlain } from './lib/config-merge.js';
import type { PlainMap } from './lib/config-merge.js';
import {
  keyPathText,
  ownedRecord,
  ownedPath,
  parseOwnedConfig,
  renderOwned,
  settingsLeaves,
} from './lib/fleet-owned.js';
import { fileText, pathFact } from './lib/facts-access.js';
import { hermesPaths, ownedAttrs, readPath, withActor, sharesState } from './lib/layout.js';
import { renderMcpServers } from './lib/mcp-servers.js';
import { planFile, regularFileOrAbsent } from './lib/plan-file.js';
import type { Task } from '../src/plan/task.js';

export const CONFIG_MODE = 0o640;
export const SHARED_CONFIG_MODE = 0o660;
export const MANAGED_MARKER_MODE = 0o644;
/** The copy of an unmergeable config.yaml may hold credentials a person typed into it. */
export const CONFIG_BACKUP_MODE = 0o600;

/**
 * What the module renders as config.yaml before merging: `settings`, with the rendered
 * `mcpServers` deep-merged under `mcp_servers` (mcpServers win over the same keys in settings).
 */
export function managedSettings(h: HermesSettings): PlainMap {
  const settings = toPlain(h.settings, 'settings');
  if (!isPlainMap(settings)) return {};
  if (Object.keys(h.mcpServers).length === 0) return settings;
  // Both sides are PlainMaps, so the merge is one too.
  return deepMerge(settings, { mcp_servers: renderMcpServers(h.mcpServers) }) as PlainMap;
}

/**
 * The settings keys the fleet set on an earlier run (its record on the host) that the inventory
 * no longer has; none when there is no record, or in configFile mode (the file is replaced).
 */
function forgottenKeys(h: HermesSettings, facts: HostFacts, want: PlainMap): string[][] {
  const fact = pathFact(facts, ownedPath(h, 'config'));
  const owned = parseOwnedConfig(fact.kind === 'file' ? fact.text : undefined);
  if (!owned) return [];
  const wanted = settingsLeaves(want);
  // A path on the way to a wanted leaf (a scalar that became a map) or below one (a map that
  // became a scalar) is the inventory's still: taking it out would take a wanted key with it.
  const overlaps = (a: readonly string[], b: readonly string[]) =>
    a.slice(0, Math.min(a.length, b.length)).every((key, i) => key === b[i]);
  return owned.keys.filter((path) => !wanted.some((leaf) => overlaps(path, leaf)));
}

export const mergeTask: Task = {
  name: 'merge',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    const p = hermesPaths(h);
    return [
      readPath(h, { path: p.configYaml, content: true }),
      readPath(h, { path: p.configBackup }),
      readPath(h, { path: p.managedMarker }),
      readPath(h, { path: ownedPath(h, 'config'), content: true }),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const p = hermesPaths(h);
    // Group-writable when shared, as the module's, so a person's CLI can save settings.
    const attrs = ownedAttrs(h, sharesState(h) ? SHARED_CONFIG_MODE : CONFIG_MODE);
    const fact = pathFact(facts, p.configYaml);
    const changes: Change[] = [];
    const keep = (change: Change | undefined) => {
      if (change) changes.push(change);
    };

    if (h.configFile) {
      // The module's `install -m 0640 configFile config.yaml`: the file is replaced, not merged.
      keep(
        planFile({
          path: p.configYaml,
          fact,
          body: { text: h.configFile.content },
          attrs,
          manage: 'content',
        }),
      );
    } else {
      const current = regularFileOrAbsent(p.configYaml, fact);
      const want = managedSettings(h);
      const outcome = mergeConfigText(
        current ? fileText(current, p.configYaml) : undefined,
        want,
        forgottenKeys(h, facts, want),
      );
      if (outcome.kind === 'write' && outcome.brokenText !== undefined) {
        // Kept beside it rather than lost; a later broken file overwrites this copy.
        keep(
          planFile({
            path: p.configBackup,
            fact: pathFact(facts, p.configBackup),
            body: { text: outcome.brokenText },
            attrs: ownedAttrs(h, CONFIG_BACKUP_MODE),
            manage: 'content',
          }),
        );
      }
      const text = outcome.kind === 'write' ? outcome.text : (current?.text ?? '');
      const forgets = outcome.kind === 'write' ? (outcome.removed ?? []) : [];
      const change = planFile({
        path: p.configYaml,
        fact,
        body: { text },
        attrs,
        manage: 'content',
      });
      keep(
        change?.kind === 'file' && forgets.length > 0
          ? { ...change, forgets: forgets.map((path) => ({ key: keyPathText(path) })) }
          : change,
      );
    }

    // `touch` semantics: the marker's presence is what counts, never its content.
    keep(
      planFile({
        path: p.managedMarker,
        fact: pathFact(facts, p.managedMarker),
        body: { text: '' },
        attrs: ownedAttrs(h, MANAGED_MARKER_MODE),
        manage: 'existence',
      }),
    );
    return changes.map((change) => withActor(h, change));
  },

  record(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const path = ownedPath(h, 'config');
    // configFile replaces the whole file: the fleet owns no key of it to take out later.
    const keys = h.configFile ? [] : settingsLeaves(managedSettings(h));
    return ownedRecord(h, path, pathFact(facts, path), renderOwned({ keys }));
  },
};
