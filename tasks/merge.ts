import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import type { Change } from '../src/plan/types.js';
import { deepMerge, isPlainMap, mergeConfigText, toPlain } from './lib/config-merge.js';
import type { PlainMap } from './lib/config-merge.js';
import { fileText, pathFact } from './lib/facts-access.js';
import { hermesPaths, ownedAttrs, readPath, withActor } from './lib/layout.js';
import { renderMcpServers } from './lib/mcp-servers.js';
import { planFile, regularFileOrAbsent } from './lib/plan-file.js';
import type { Task } from '../src/plan/task.js';

export const CONFIG_MODE = 0o640;
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

export const mergeTask: Task = {
  name: 'merge',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    const p = hermesPaths(h);
    return [
      readPath(h, { path: p.configYaml, content: true }),
      readPath(h, { path: p.configBackup }),
      readPath(h, { path: p.managedMarker }),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const p = hermesPaths(h);
    const attrs = ownedAttrs(h, CONFIG_MODE);
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
      const outcome = mergeConfigText(
        current ? fileText(current, p.configYaml) : undefined,
        managedSettings(h),
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
      keep(planFile({ path: p.configYaml, fact, body: { text }, attrs, manage: 'content' }));
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
};
