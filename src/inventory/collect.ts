import { isMap, isScalar } from 'yaml';
import type { SourceLocation } from '../errors.js';
import { UserError } from '../errors.js';
import { expandHostPattern } from './host-ranges.js';
import type { Layer } from './layer.js';
import { layerFromYaml, mergeLayers } from './layer.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import { keyText, locate } from './yaml-source.js';

interface GroupEntry {
  name: string;
  /** First appearance across all files: siblings keep file order. */
  order: number;
  parents: Set<string>;
  /** Each occurrence's `vars`, in file order. */
  vars: Layer[];
  location: SourceLocation;
}

interface HostEntry {
  name: string;
  order: number;
  groups: Set<string>;
  /** Each occurrence's own entry, in file order. */
  entries: Layer[];
}

/** A host with its groups (outermost first) and its settings merged by precedence. */
export interface CollectedHost {
  name: string;
  groups: string[];
  settings: Layer | undefined;
}

export interface Collected {
  hosts: CollectedHost[];
  groups: Map<string, string[]>;
}

/**
 * Walks the group trees of every file (in order; group and host names are global, as in
 * Ansible, so a later file adds to and overrides the same group) and merges each host's
 * settings: group vars by depth (outermost first, siblings in file order), then the host's own
 * entries, then `extra` (-e).
 */
export function collectHosts(sources: readonly YamlSource[], extra: readonly Layer[]): Collected {
  const groups = new Map<string, GroupEntry>();
  const hosts = new Map<string, HostEntry>();
  let order = 0;

  const group = (name: string, location: SourceLocation): GroupEntry => {
    let entry = groups.get(name);
    if (!entry) {
      if (hosts.has(name)) {
        throw new UserError(
          `"${name}" is already a host name; a group needs another name`,
          location,
        );
      }
      entry = { name, order: order++, parents: new Set(), vars: [], location };
      groups.set(name, entry);
    }
    return entry;
  };

  for (const source of sources) {
    const visit = (name: string, node: unknown, docPath: PathSegment[], ancestors: string[]) => {
      const entry = group(name, locate(source, docPath, 'key'));
      if (!isMap(node)) return;
      for (const pair of node.items) {
        const key = keyText(pair.key);
        if (isEmpty(pair.value)) continue;
        if (key === 'vars') {
          entry.vars.push(layerFromYaml(source, [...docPath, 'vars']));
        } else if (key === 'hosts' && isMap(pair.value)) {
          for (const hostPair of pair.value.items) {
            const pattern = keyText(hostPair.key);
            const hostPath = [...docPath, 'hosts', pattern];
            const where = locate(source, hostPath, 'key');
            let names: string[];
            try {
              names = expandHostPattern(pattern);
            } catch (err) {
              throw new UserError((err as Error).message, where);
            }
            const layer = isEmpty(hostPair.value) ? undefined : layerFromYaml(source, hostPath);
            for (const hostName of names) {
              if (groups.has(hostName)) {
                throw new UserError(
                  `"${hostName}" is already a group name; a host needs another name`,
                  where,
                );
              }
              let host = hosts.get(hostName);
              if (!host) {
                host = { name: hostName, order: order++, groups: new Set(), entries: [] };
                hosts.set(hostName, host);
              }
              host.groups.add(name);
              if (layer) host.entries.push(layer);
            }
          }
        } else if (key === 'children' && isMap(pair.value)) {
          for (const childPair of pair.value.items) {
            const childName = keyText(childPair.key);
            const childPath = [...docPath, 'children', childName];
            const where = locate(source, childPath, 'key');
            if (childName === 'all' || ancestors.includes(childName) || childName === name) {
              throw new UserError(
                `the group "${childName}" cannot be a child of itself or of its own descendants`,
                where,
              );
            }
            group(childName, where).parents.add(name);
            visit(childName, childPair.value, childPath, [...ancestors, name]);
          }
        }
      }
    };
    const root = source.doc.contents;
    const allPair = isMap(root)
      ? root.items.find((item) => keyText(item.key) === 'all')
      : undefined;
    visit('all', allPair?.value, ['all'], []);
  }

  const depths = new Map<string, number>();
  const depth = (name: string, seen: string[]): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const entry = groups.get(name);
    if (!entry || name === 'all') return 0;
    if (seen.includes(name)) {
      throw new UserError(
        `groups form a cycle: ${[...seen.slice(seen.indexOf(name)), name].join(' → ')}`,
        entry.location,
      );
    }
    let deepest = 0;
    for (const parent of entry.parents) deepest = Math.max(deepest, depth(parent, [...seen, name]));
    depths.set(name, deepest + 1);
    return deepest + 1;
  };

  const ancestorsOf = (names: Iterable<string>): Set<string> => {
    const out = new Set<string>(['all']);
    const stack = [...names];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (out.has(name) && name !== 'all') continue;
      out.add(name);
      for (const parent of groups.get(name)?.parents ?? []) stack.push(parent);
    }
    return out;
  };

  const membership = new Map<string, string[]>();
  for (const entry of [...groups.values()].sort((a, b) => a.order - b.order)) {
    membership.set(entry.name, []);
  }
  const collected: CollectedHost[] = [];
  for (const host of [...hosts.values()].sort((a, b) => a.order - b.order)) {
    const hostGroups = [...ancestorsOf(host.groups)]
      .map((name) => groups.get(name) as GroupEntry)
      .sort((a, b) => depth(a.name, []) - depth(b.name, []) || a.order - b.order);
    let settings: Layer | undefined;
    for (const entry of hostGroups) {
      for (const layer of entry.vars) settings = mergeLayers(settings, layer);
    }
    for (const layer of [...host.entries, ...extra]) settings = mergeLayers(settings, layer);
    for (const entry of hostGroups) membership.get(entry.name)?.push(host.name);
    collected.push({ name: host.name, groups: hostGroups.map((g) => g.name), settings });
  }
  // Groups defined without any host still show up (empty) so --limit can name them.
  return { hosts: collected, groups: membership };
}

function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}
