import * as path from 'node:path';
import { stringify } from 'yaml';
import { UserError } from '../errors.js';
import { classifySource } from './ansible-load.js';
import { checkSchema, yamlLocator } from './check-schema.js';
import { collectHosts } from './collect.js';
import { expandHostPattern } from './host-ranges.js';
import type { Layer } from './layer.js';
import { LayerLeaf, LayerMap, unwrap } from './layer.js';
import { resolveLocalPath } from './local-files.js';
import { inventorySchema } from './schema.js';
import type { YamlSource } from './yaml-source.js';
import { readYamlFile } from './yaml-source.js';

/** hermes settings whose values are paths on the control machine, relative to their file. */
const LOCAL_PATHS: readonly (readonly string[])[] = [
  ['configFile'],
  ['authFile'],
  ['release', 'archive'],
  ['container', 'imageArchive'],
];

interface GroupNode {
  children: string[];
  hosts: string[];
}

/**
 * hermes-fleet YAML inventories → one Ansible YAML inventory that hermes-fleet (and Ansible)
 * read back to the same hosts, groups and settings. Because Ansible replaces a dict variable
 * whole where hermes-fleet merges maps, each host gets its settings already merged: `hermes` (as
 * written, secrets by reference, never evaluated) and the ssh settings as ansible_* variables;
 * a variable equal on every host moves up to `all.vars`. Relative local paths are rewritten
 * relative to the first file's directory: write the export beside it.
 */
export async function exportAnsible(
  files: readonly string[],
): Promise<{ text: string; warnings: string[] }> {
  for (const file of files) {
    if (classifySource(file) !== 'hermes') {
      throw new UserError(
        'this is already an Ansible inventory: --export-ansible converts hermes-fleet YAML inventories',
        { file },
      );
    }
  }
  const sources = await Promise.all(files.map((file) => readYamlFile(file)));
  for (const source of sources) {
    const data: unknown = source.doc.toJS();
    if (data === null || data === undefined) {
      throw new UserError('the inventory is empty', { file: source.file });
    }
    checkSchema(inventorySchema, data, yamlLocator(source));
  }
  const base = path.dirname(path.resolve(files[0] ?? '.'));
  const collected = collectHosts(sources, []);
  const tree = groupTree(sources);
  const warnings: string[] = [];
  const hostVars = new Map<string, Map<string, unknown>>();
  for (const host of collected.hosts) {
    const settings = host.settings instanceof LayerMap ? host.settings : undefined;
    const vars = new Map<string, unknown>();
    const ssh = settings?.entries.get('ssh');
    if (ssh instanceof LayerMap) {
      for (const [key, value] of Object.entries(sshVars(ssh, host.name, warnings))) {
        vars.set(key, value);
      }
    }
    const instances = settings?.entries.get('instances');
    if (instances instanceof LayerMap && instances.entries.size > 0) {
      throw new UserError(
        `${host.name} has instances: an Ansible inventory carries one hermes per host`,
        instances.origin.location,
        'export an inventory without instances, or keep this one in hermes-fleet YAML',
      );
    }
    const hermes = settings?.entries.get('hermes');
    if (hermes instanceof LayerMap) vars.set('hermes', hermesValue(hermes, base));
    hostVars.set(host.name, vars);
  }
  // A variable with the same value on every host is written once, in all.vars.
  const shared: Record<string, unknown> = {};
  const all = [...hostVars.values()];
  for (const [key, value] of all[0] ?? []) {
    const text = JSON.stringify(value);
    if (all.every((vars) => vars.has(key) && JSON.stringify(vars.get(key)) === text)) {
      shared[key] = value;
      for (const vars of all) vars.delete(key);
    }
  }
  const written = new Set<string>();
  const render = (name: string): Record<string, unknown> => {
    const node = tree.get(name) ?? { children: [], hosts: [] };
    const out: Record<string, unknown> = {};
    if (name === 'all' && Object.keys(shared).length > 0) out.vars = shared;
    if (node.hosts.length > 0) {
      out.hosts = Object.fromEntries(
        node.hosts.map((host) => {
          // A host's variables go with its first listing; later listings only add groups.
          const vars = written.has(host) ? undefined : hostVars.get(host);
          written.add(host);
          return [host, vars && vars.size > 0 ? Object.fromEntries(vars) : null];
        }),
      );
    }
    if (node.children.length > 0) {
      out.children = Object.fromEntries(node.children.map((child) => [child, render(child)]));
    }
    return out;
  };
  const doc = { all: render('all') };
  const header =
    '# Converted by hermes-fleet inventory --export-ansible: each host carries its merged settings\n' +
    '# (Ansible replaces dict variables; hermes-fleet YAML merges maps).\n';
  return { text: header + stringify(doc, { lineWidth: 0, nullStr: '' }), warnings };
}

/** Parent → children and group → directly listed hosts, across every file, in file order. */
function groupTree(sources: readonly YamlSource[]): Map<string, GroupNode> {
  const tree = new Map<string, GroupNode>();
  const node = (name: string) => {
    let entry = tree.get(name);
    if (!entry) {
      entry = { children: [], hosts: [] };
      tree.set(name, entry);
    }
    return entry;
  };
  const visit = (name: string, group: unknown) => {
    const entry = node(name);
    if (group === null || typeof group !== 'object') return;
    const { hosts, children } = group as { hosts?: unknown; children?: unknown };
    if (hosts !== null && typeof hosts === 'object') {
      for (const pattern of Object.keys(hosts)) {
        for (const host of expandHostPattern(pattern)) {
          if (!entry.hosts.includes(host)) entry.hosts.push(host);
        }
      }
    }
    if (children !== null && typeof children === 'object') {
      for (const [child, value] of Object.entries(children)) {
        if (!entry.children.includes(child)) entry.children.push(child);
        visit(child, value);
      }
    }
  };
  for (const source of sources) {
    const data = source.doc.toJS() as { all?: unknown };
    visit('all', data.all);
  }
  return tree;
}

function quoteArg(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'"'"'`)}'`;
}

function sshVars(ssh: LayerMap, host: string, warnings: string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  const options: string[] = [];
  for (const [key, layer] of ssh.entries) {
    if (!(layer instanceof LayerLeaf)) continue;
    const value = layer.value;
    if (key === 'host') vars.ansible_host = value;
    else if (key === 'port') vars.ansible_port = value;
    else if (key === 'user') vars.ansible_user = value;
    else if (key === 'become') vars.ansible_become = value === 'sudo';
    else if (key === 'identityFile') {
      // Ansible reads a relative key path against the current directory: write it absolute.
      vars.ansible_ssh_private_key_file = resolveLocalPath(layer.origin.dir, String(value));
    } else if (key === 'knownHosts') {
      const file = resolveLocalPath(layer.origin.dir, String(value));
      options.push(`-o UserKnownHostsFile=${quoteArg(file)}`);
    } else if (key === 'hostKeyPolicy') {
      const policy = { strict: 'yes', 'accept-new': 'accept-new', off: 'no' }[String(value)];
      options.push(`-o StrictHostKeyChecking=${policy ?? 'yes'}`);
    } else if (key === 'jump') options.push(`-o ProxyJump=${quoteArg(String(value))}`);
    else if (key === 'connectTimeout') vars.ansible_ssh_timeout = value;
    else if (key === 'passphraseEnv') {
      const message = `${host}: ssh.passphraseEnv has no Ansible variable; load the key into ssh-agent instead`;
      if (!warnings.includes(message)) warnings.push(message);
    }
  }
  if (options.length > 0) vars.ansible_ssh_common_args = options.join(' ');
  return vars;
}

/** The merged `hermes` map as written, with relative local paths re-based on `base`. */
function hermesValue(hermes: LayerMap, base: string): unknown {
  // A copy: the layers' values are shared by every host that inherits them.
  const value = structuredClone(unwrap(hermes)) as Record<string, unknown>;
  const rebase = (layer: Layer | undefined, written: unknown): unknown => {
    if (typeof written !== 'string' || !layer) return written;
    if (path.isAbsolute(written) || written.startsWith('~')) return written;
    const absolute = resolveLocalPath(layer.origin.dir, written);
    return path.relative(base, absolute) || '.';
  };
  const at = (segments: readonly string[]): Layer | undefined => {
    let layer: Layer | undefined = hermes;
    for (const segment of segments) {
      layer = layer instanceof LayerMap ? layer.entries.get(segment) : undefined;
    }
    return layer;
  };
  for (const segments of LOCAL_PATHS) {
    const layer = at(segments);
    if (!(layer instanceof LayerLeaf)) continue;
    let parent: Record<string, unknown> = value;
    for (const segment of segments.slice(0, -1))
      parent = parent[segment] as Record<string, unknown>;
    const last = segments.at(-1) as string;
    parent[last] = rebase(layer, layer.value);
  }
  for (const mapKey of ['secrets', 'documents']) {
    const map = at([mapKey]);
    if (!(map instanceof LayerMap)) continue;
    for (const [name, layer] of map.entries) {
      const entry = (value[mapKey] as Record<string, unknown>)[name];
      if (entry !== null && typeof entry === 'object' && 'file' in entry) {
        entry.file = rebase(layer, entry.file);
      }
    }
  }
  return value;
}
