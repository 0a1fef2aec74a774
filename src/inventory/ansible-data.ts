import type { SourceLocation } from '../errors.js';
import { UserError } from '../errors.js';

/** One variable as written: its value and where, for messages (`file:line`). */
export interface AnsibleVar {
  value: unknown;
  where: SourceLocation;
  /** For a YAML value: where a key path inside it is written (`hermes.settings.model`). */
  locate?: (segments: readonly (string | number)[]) => SourceLocation;
}

export type VarMap = Map<string, AnsibleVar>;

export interface AnsibleGroup {
  name: string;
  /** Creation order, for output that follows the files. */
  order: number;
  vars: VarMap;
  /** `ansible_group_priority` set in the inventory itself (not in group_vars, as in Ansible). */
  priority: number;
  parents: Set<string>;
  children: Set<string>;
  /** Hosts listed directly in this group, in the order they were added. */
  hosts: Set<string>;
  where: SourceLocation;
  /** Longest path from `all` (Ansible's Group.depth); set by reconcile(). */
  depth: number;
}

export interface AnsibleHost {
  name: string;
  order: number;
  vars: VarMap;
  /** Groups the host is listed in directly. */
  groups: Set<string>;
}

/**
 * Ansible's InventoryData, as the file plugins fill it: groups and hosts are global (a later
 * source adds to the same group), `set*Var` replaces a variable whole (dicts are not merged, as
 * with Ansible's default `hash_behaviour = replace`), and reconcile() puts parentless groups
 * under `all` and hosts in no group in `ungrouped`.
 */
export class AnsibleInventoryData {
  readonly groups = new Map<string, AnsibleGroup>();
  readonly hosts = new Map<string, AnsibleHost>();
  private order = 0;

  constructor() {
    this.addGroup('all', { file: '(built in)' });
    this.addGroup('ungrouped', { file: '(built in)' });
    this.addChild('all', 'ungrouped', { file: '(built in)' });
  }

  addGroup(name: string, where: SourceLocation): AnsibleGroup {
    let group = this.groups.get(name);
    if (!group) {
      if (name === '') throw new UserError('a group needs a name', where);
      group = {
        name,
        order: this.order++,
        vars: new Map(),
        priority: 1,
        parents: new Set(),
        children: new Set(),
        hosts: new Set(),
        where,
        depth: 0,
      };
      this.groups.set(name, group);
    }
    return group;
  }

  addHost(name: string, group: string | undefined, where: SourceLocation): AnsibleHost {
    let host = this.hosts.get(name);
    if (!host) {
      host = { name, order: this.order++, vars: new Map(), groups: new Set() };
      this.hosts.set(name, host);
    }
    if (group !== undefined && group !== 'all') {
      const entry = this.addGroup(group, where);
      entry.hosts.add(name);
      host.groups.add(group);
    }
    return host;
  }

  addChild(parent: string, child: string, where: SourceLocation): void {
    if (parent === child) {
      throw new UserError(`the group "${child}" cannot be a child of itself`, where);
    }
    const p = this.addGroup(parent, where);
    const c = this.addGroup(child, where);
    if (child === 'all') throw new UserError('the group "all" cannot be a child group', where);
    if (this.isAncestor(child, parent)) {
      throw new UserError(
        `adding "${child}" under "${parent}" makes a cycle: "${parent}" is already under "${child}"`,
        where,
      );
    }
    p.children.add(child);
    c.parents.add(parent);
  }

  /** True when `maybe` is `name` or one of its ancestors. */
  private isAncestor(maybe: string, name: string): boolean {
    const stack = [name];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const current = stack.pop() as string;
      if (current === maybe) return true;
      if (seen.has(current)) continue;
      seen.add(current);
      stack.push(...(this.groups.get(current)?.parents ?? []));
    }
    return false;
  }

  setGroupVar(
    group: string,
    key: string,
    value: unknown,
    where: SourceLocation,
    locate?: AnsibleVar['locate'],
  ): void {
    const entry = this.addGroup(group, where);
    if (key === 'ansible_group_priority') {
      // Ansible's Group.set_variable: int(value), and it is not a variable afterwards.
      const priority = typeof value === 'number' ? Math.trunc(value) : Number(String(value).trim());
      if (!Number.isInteger(priority)) {
        throw new UserError('ansible_group_priority must be a whole number', where);
      }
      entry.priority = priority;
      return;
    }
    entry.vars.set(key, locate ? { value, where, locate } : { value, where });
  }

  setHostVar(
    host: string,
    key: string,
    value: unknown,
    where: SourceLocation,
    locate?: AnsibleVar['locate'],
  ): void {
    const entry = this.addHost(host, undefined, where);
    entry.vars.set(key, locate ? { value, where, locate } : { value, where });
  }

  /** Ansible's reconcile_inventory: `all` over parentless groups, `ungrouped` for lone hosts. */
  reconcile(): void {
    const all = this.groups.get('all') as AnsibleGroup;
    const ungrouped = this.groups.get('ungrouped') as AnsibleGroup;
    for (const group of this.groups.values()) {
      if (group.name !== 'all' && group.parents.size === 0) {
        all.children.add(group.name);
        group.parents.add('all');
      }
    }
    for (const host of this.hosts.values()) {
      const others = [...host.groups].filter((g) => g !== 'ungrouped' && g !== 'all');
      if (others.length === 0) {
        host.groups.add('ungrouped');
        ungrouped.hosts.add(host.name);
      } else if (host.groups.has('ungrouped')) {
        host.groups.delete('ungrouped');
        ungrouped.hosts.delete(host.name);
      }
    }
    const depths = new Map<string, number>();
    const depth = (name: string): number => {
      const known = depths.get(name);
      if (known !== undefined) return known;
      const group = this.groups.get(name) as AnsibleGroup;
      let deepest = -1;
      for (const parent of group.parents) deepest = Math.max(deepest, depth(parent));
      depths.set(name, deepest + 1);
      return deepest + 1;
    };
    for (const group of this.groups.values()) group.depth = depth(group.name);
  }

  /** Every group the host is in, directly or through children, `all` included. */
  groupsOf(host: AnsibleHost): AnsibleGroup[] {
    const out = new Set<string>();
    const stack = [...host.groups, 'all'];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (out.has(name)) continue;
      out.add(name);
      stack.push(...(this.groups.get(name)?.parents ?? []));
    }
    return [...out].map((name) => this.groups.get(name) as AnsibleGroup);
  }

  /**
   * Every host of a group in Ansible's order (Group.get_hosts: the group's own hosts, then its
   * children's, then theirs, level by level), which subscripts like `web[0]` index. Ansible walks
   * the levels below the children through a Python set, so its order there varies between runs;
   * here it is the groups' order.
   */
  hostsOf(name: string): string[] {
    const start = this.groups.get(name);
    if (!start) return [];
    const ordered: AnsibleGroup[] = [start];
    const seen = new Set<string>([name]);
    for (let i = 0; i < ordered.length; i++) {
      for (const child of (ordered[i] as AnsibleGroup).children) {
        if (seen.has(child)) continue;
        seen.add(child);
        ordered.push(this.groups.get(child) as AnsibleGroup);
      }
    }
    const out = new Set<string>();
    for (const group of ordered) for (const host of group.hosts) out.add(host);
    return [...out];
  }
}

/** Ansible's sort_groups: by depth, then ansible_group_priority, then name. */
export function sortGroups(groups: readonly AnsibleGroup[]): AnsibleGroup[] {
  return [...groups].sort(
    (a, b) =>
      a.depth - b.depth ||
      a.priority - b.priority ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}
