import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { UserError } from '../errors.js';
import type { AnsibleGroup, AnsibleHost, VarMap } from './ansible-data.js';
import { AnsibleInventoryData, sortGroups } from './ansible-data.js';
import { parseIniInventory } from './ansible-ini.js';
import { readInventoryScript, readListJson } from './ansible-script.js';
import { byCodePoint, VarsFiles } from './ansible-vars-files.js';
import type { AnsibleYaml } from './ansible-yaml.js';
import { parseAnsibleYaml, readAnsibleYamlInventory } from './ansible-yaml.js';
import { describeFsError } from './yaml-source.js';

/**
 * Names Ansible skips in an inventory directory (inventory/manager.py IGNORED): hidden files,
 * group_vars, host_vars, vars_plugins, and the INVENTORY_IGNORE_EXTS endings, which include
 * `.ini` (an INI file in an inventory directory needs no extension), `.cfg`, `.md`, `.txt`.
 */
const IGNORED =
  /^\.|^host_vars$|^group_vars$|^vars_plugins$|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;
const YAML_EXTENSIONS = ['.yml', '.yaml', '.json'];

export function isIgnoredInDirectory(name: string): boolean {
  return IGNORED.test(name);
}

/** One host with its variables resolved by Ansible's precedence. */
export interface AnsibleResolvedHost {
  name: string;
  /** Every group of the host, `all` first, then by depth, priority and name. */
  groups: string[];
  vars: VarMap;
}

export interface AnsibleInventory {
  hosts: AnsibleResolvedHost[];
  /** Group → its hosts (children's included), in the order hosts were added; `all` first. */
  groups: Map<string, string[]>;
  /** Group → its direct children (for --export-ansible and the tests). */
  children: Map<string, string[]>;
  /** Group → the hosts listed in it directly. */
  direct: Map<string, string[]>;
  /** A group's hosts in Ansible's order, for `--limit` subscripts (`web[0]`). */
  groupHosts: (group: string) => string[];
}

/** True for an executable file that starts with `#!` or is an ELF binary. */
export function isInventoryScript(file: string): boolean {
  try {
    const stat = statSync(file);
    if (!stat.isFile() || (stat.mode & 0o111) === 0) return false;
    const head = Buffer.alloc(4);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    return head.subarray(0, 2).toString('latin1') === '#!' || head.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

/**
 * Reads Ansible inventory sources (`-i` in order) as `ansible-inventory` does: a directory is
 * every entry in it, sorted, minus the ignored names, recursively; an executable is an
 * inventory script; a YAML/JSON map is a YAML inventory or, when it has `_meta` or list-valued
 * hosts/children, the `--list` JSON; anything else is INI. Then group_vars/ and host_vars/
 * beside each source (the directory itself for a directory) and Ansible's precedence.
 */
export async function readAnsibleInventory(sources: readonly string[]): Promise<AnsibleInventory> {
  const data = new AnsibleInventoryData();
  for (const source of sources) await readSource(source, data, true);
  data.reconcile();
  return resolve(data, sources);
}

async function readSource(file: string, data: AnsibleInventoryData, given: boolean): Promise<void> {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    throw new UserError(`cannot read the inventory: ${describeFsError(err)}`, { file });
  }
  if (stat.isDirectory()) {
    for (const name of readdirSync(file).sort(byCodePoint)) {
      if (isIgnoredInDirectory(name)) continue;
      await readSource(path.join(file, name), data, false);
    }
    return;
  }
  if (isInventoryScript(file)) {
    await readInventoryScript(file, data);
    return;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the file: ${describeFsError(err)}`, { file });
  }
  const ext = path.extname(file);
  if (ext === '' || YAML_EXTENSIONS.includes(ext)) {
    let yaml: AnsibleYaml | undefined;
    let yamlError: Error | undefined;
    try {
      yaml = parseAnsibleYaml(text, file);
    } catch (err) {
      yamlError = err as Error;
    }
    if (yaml && isMap(yaml.doc.contents)) {
      if (looksLikeListJson(yaml)) {
        readListJson(yaml.doc.toJS() as Record<string, unknown>, file, data);
      } else {
        readAnsibleYamlInventory(yaml, data);
      }
      return;
    }
    // Not a YAML map: Ansible's next plugin is the INI one. A .yml/.json file that is not YAML
    // is reported as YAML; a file without an extension as INI.
    if (ext !== '' && yamlError) throw yamlError;
    if (ext !== '' && yaml) {
      throw new UserError('a YAML inventory must be a map of groups (all:, web:, ...)', {
        file,
        line: 1,
      });
    }
  }
  // An empty file in a directory adds nothing; given alone with -i, it is a mistake.
  if (text.trim() === '' && given) throw new UserError('the inventory is empty', { file });
  parseIniInventory(text, file, data);
}

function looksLikeListJson(yaml: AnsibleYaml): boolean {
  const root = yaml.doc.contents;
  if (!isMap(root)) return false;
  return root.items.some((pair) => {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    if (key === '_meta') return true;
    if (isSeq(pair.value)) return true;
    if (!isMap(pair.value)) return false;
    return pair.value.items.some(
      (item) =>
        isScalar(item.key) &&
        (item.key.value === 'hosts' || item.key.value === 'children') &&
        isSeq(item.value),
    );
  });
}

/**
 * Ansible's VariableManager order for a host (vars/manager.py, default VARIABLE_PRECEDENCE):
 * `all`'s inventory vars; every other group's inventory vars, sorted by depth, then
 * ansible_group_priority, then name; group_vars/all of each source; group_vars/<group> of each
 * source (groups sorted the same way); the host's inventory vars; host_vars/<host> of each
 * source. Every step replaces variables whole: dicts are not merged.
 */
function resolve(data: AnsibleInventoryData, sources: readonly string[]): AnsibleInventory {
  const basedirs = sources.map((source) => {
    const isDir = existsSync(source) && statSync(source).isDirectory();
    return path.resolve(isDir ? source : path.dirname(source));
  });
  const files = new VarsFiles();
  const allGroup = data.groups.get('all') as AnsibleGroup;
  const allStage: VarMap = new Map(allGroup.vars);
  // Hosts in the same groups share the group part, computed once.
  const byGroups = new Map<string, { groups: string[]; vars: VarMap }>();
  const groupPart = (host: AnsibleHost) => {
    // Keyed by the groups a host is listed in: its ancestors, and so its vars, follow from them.
    const key = [...host.groups].join('\0');
    let part = byGroups.get(key);
    if (part) return part;
    const sorted = sortGroups(data.groupsOf(host).filter((g) => g.name !== 'all'));
    const vars: VarMap = new Map(allStage);
    for (const group of sorted) for (const [k, v] of group.vars) vars.set(k, v);
    for (const dir of basedirs) {
      for (const [k, v] of files.varsFor(dir, 'group_vars', 'all') ?? []) vars.set(k, v);
    }
    for (const dir of basedirs) {
      for (const group of sorted) {
        for (const [k, v] of files.varsFor(dir, 'group_vars', group.name) ?? []) vars.set(k, v);
      }
    }
    part = { groups: ['all', ...sorted.map((g) => g.name)], vars };
    byGroups.set(key, part);
    return part;
  };
  const hosts: AnsibleResolvedHost[] = [];
  for (const host of data.hosts.values()) {
    const part = groupPart(host);
    const vars: VarMap = new Map(part.vars);
    for (const [k, v] of host.vars) vars.set(k, v);
    for (const dir of basedirs) {
      for (const [k, v] of files.varsFor(dir, 'host_vars', host.name) ?? []) vars.set(k, v);
    }
    hosts.push({ name: host.name, groups: part.groups, vars });
  }
  const groups = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const direct = new Map<string, string[]>();
  const ordered = [...data.groups.values()].sort((a, b) => a.order - b.order);
  const members = new Map<string, string[]>(ordered.map((g) => [g.name, []]));
  for (const host of hosts) for (const group of host.groups) members.get(group)?.push(host.name);
  for (const group of ordered) {
    groups.set(group.name, members.get(group.name) ?? []);
    children.set(group.name, [...group.children]);
    direct.set(group.name, [...group.hosts]);
  }
  return { hosts, groups, children, direct, groupHosts: (group) => data.hostsOf(group) };
}
