import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { AnsibleMapper } from './ansible-map.js';
import { closest } from './did-you-mean.js';
import type { AnsibleInventory } from './ansible-sources.js';
import { isInventoryScript, readAnsibleInventory } from './ansible-sources.js';
import type { Collected, CollectedHost } from './collect.js';
import type { Layer } from './layer.js';
import { mergeLayers } from './layer.js';

export type SourceFormat = 'hermes' | 'ansible';

/**
 * Which reader an `-i` source needs. hermes-fleet's own YAML (one `all:` tree whose vars and
 * hosts hold only `ssh`/`hermes`, with no group_vars/ or host_vars/ beside it) keeps its own
 * rules (deep merge, strict schema, file:line:column); everything else is read as Ansible reads
 * it: a directory, an executable, INI, an Ansible YAML inventory (other top-level groups, or
 * variables other than ssh/hermes), the `--list` JSON, or any inventory with group_vars/ or
 * host_vars/ beside it.
 */
export function classifySource(file: string): SourceFormat {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    // Let the hermes reader say "no such file" as it always has.
    return 'hermes';
  }
  if (stat.isDirectory() || isInventoryScript(file)) return 'ansible';
  const dir = path.dirname(file);
  if (existsSync(path.join(dir, 'group_vars')) || existsSync(path.join(dir, 'host_vars'))) {
    return 'ansible';
  }
  const ext = path.extname(file);
  if (!['', '.yml', '.yaml', '.json'].includes(ext)) return 'ansible';
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch {
    // Not YAML: INI without an extension is Ansible's; a broken .yaml is reported as today.
    return ext === '' ? 'ansible' : 'hermes';
  }
  if (data === null || data === undefined) return 'hermes';
  if (typeof data !== 'object' || Array.isArray(data)) return ext === '' ? 'ansible' : 'hermes';
  // Other top-level groups are Ansible's, unless one is a near miss of `all` (`al:`).
  const others = Object.keys(data).filter((key) => key !== 'all');
  if (others.length > 0 && others.every((key) => closest(key, ['all']) === undefined)) {
    return 'ansible';
  }
  return Object.values(data).some(hasAnsibleVariables) ? 'ansible' : 'hermes';
}

/**
 * True when a key is Ansible's rather than a hermes-fleet typo: a variable that is neither
 * `ssh`/`hermes`/`instances` nor a near miss of them (`hermse` stays the hermes schema's to report).
 */
const HOST_SETTINGS = ['ssh', 'hermes', 'instances'];

function isAnsibleVariable(key: string): boolean {
  return !HOST_SETTINGS.includes(key) && closest(key, HOST_SETTINGS) === undefined;
}

/**
 * True when a group tree sets a variable that is not hermes-fleet's (`ansible_user: x`,
 * `http_port: 80`) or writes `hosts:` as one name: then the file is an Ansible inventory.
 * Misspelt group keys (`hots:`) are errors either way, so they decide nothing.
 */
function hasAnsibleVariables(group: unknown): boolean {
  if (group === null || typeof group !== 'object' || Array.isArray(group)) return false;
  const { vars, hosts, children } = group as Record<string, unknown>;
  const setsAnsible = (map: unknown) =>
    map !== null &&
    typeof map === 'object' &&
    !Array.isArray(map) &&
    Object.keys(map).some(isAnsibleVariable);
  if (setsAnsible(vars) || typeof hosts === 'string') return true;
  if (hosts !== null && typeof hosts === 'object' && Object.values(hosts).some(setsAnsible)) {
    return true;
  }
  if (children !== null && typeof children === 'object') {
    return Object.values(children).some(hasAnsibleVariables);
  }
  return false;
}

export interface AnsibleCollected extends Collected {
  warnings: string[];
  ansible: AnsibleInventory;
}

/**
 * Ansible sources → the same CollectedHost list the hermes reader gives: each host's Ansible
 * variables resolved by Ansible's precedence, mapped to `ssh`/`hermes` settings, then `-e`.
 */
export async function collectAnsibleHosts(
  files: readonly string[],
  extra: readonly Layer[],
  cwd: string,
): Promise<AnsibleCollected> {
  const ansible = await readAnsibleInventory(files);
  const mapper = new AnsibleMapper(cwd);
  const hosts: CollectedHost[] = ansible.hosts.map((host) => {
    let settings: Layer = mapper.map(host.vars).settings;
    for (const layer of extra) settings = mergeLayers(settings, layer);
    return { name: host.name, groups: host.groups, settings };
  });
  return { hosts, groups: ansible.groups, warnings: mapper.warnings(), ansible };
}
