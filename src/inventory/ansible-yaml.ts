import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, ScalarTag, Tags, YAMLMap } from 'yaml';
import type { SourceLocation } from '../errors.js';
import { UserError } from '../errors.js';
import type { AnsibleInventoryData } from './ansible-data.js';
import { expandAnsibleHostPattern } from './ansible-hosts.js';

/** A YAML (or JSON) file as Ansible's loader reads it: YAML 1.1, as PyYAML does. */
export interface AnsibleYaml {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/**
 * PyYAML's implicit types where they differ from the yaml package's YAML 1.1 schema: `y`/`n`
 * are text, a decimal int has no leading zero (`08` is text), and a float needs a dot (`1e3` is
 * text, `1.0e+3` a number), so values come out as Ansible's do.
 */
const PYYAML_TESTS: [RegExp, RegExp][] = [
  [/Y\|y\|\[Yy\]es/, /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/],
  [/N\|n\|\[Nn\]o/, /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/],
  [/^\^\[-\+\]\?\[0-9\]\[0-9_\]\*\$$/, /^[-+]?(?:0|[1-9][0-9_]*)$/],
  [/\[eE\]/, /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/],
  [
    /^\^\[-\+\]\?\(\?:\[0-9\]\[0-9_\]\*\)\?\\\.\[0-9_\]\*\$$/,
    /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/,
  ],
];

function pyyamlTags(tags: Tags): Tags {
  return tags.map((tag) => {
    const test = (tag as ScalarTag).test;
    if (!test) return tag;
    const replacement = PYYAML_TESTS.find(([match]) => match.test(test.source))?.[1];
    return replacement ? { ...(tag as ScalarTag), test: replacement } : tag;
  });
}

export function parseAnsibleYaml(text: string, file: string): AnsibleYaml {
  const lines = new LineCounter();
  // YAML 1.1 like PyYAML: yes/no/on/off are booleans, 0755 is octal, `<<` merges; a repeated
  // key is allowed (the last one wins, Ansible only warns).
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    version: '1.1',
    merge: true,
    uniqueKeys: false,
    customTags: pyyamlTags,
  });
  const first = doc.errors[0];
  if (first) {
    const { line, col } = lines.linePos(first.pos[0]);
    const message = first.message.split('\n')[0] ?? first.message;
    throw new UserError(
      `YAML syntax error: ${message.replace(/ at line \d+, column \d+.*$/, '')}`,
      { file, line, column: col },
    );
  }
  return { file, doc, lines };
}

export function whereIs(source: AnsibleYaml, node: unknown, keyPath?: string): SourceLocation {
  const range = (node as Node | null | undefined)?.range;
  const where: SourceLocation = { file: source.file };
  if (range) {
    const { line, col } = source.lines.linePos(range[0]);
    where.line = line;
    where.column = col;
  }
  if (keyPath !== undefined) where.keyPath = keyPath;
  return where;
}

/**
 * Where a key path inside a variable's YAML value is written, for messages that point at the
 * exact line (`hermes.settings.model` in group_vars/web.yml:4:5).
 */
export function locatorFor(
  source: AnsibleYaml,
  node: unknown,
  fallback: SourceLocation,
): (segments: readonly (string | number)[]) => SourceLocation {
  return (segments) => {
    let current: unknown = node;
    let target: unknown = undefined;
    for (const segment of segments) {
      if (isMap(current)) {
        const pair = current.items.find((item) => keyOf(item.key) === String(segment));
        if (!pair) break;
        target = pair.key;
        current = pair.value;
      } else if (isSeq(current) && typeof segment === 'number') {
        current = current.items[segment];
        target = current;
      } else break;
    }
    if (target === undefined) return fallback;
    const where = whereIs(source, target);
    return { ...fallback, line: where.line, column: where.column } as SourceLocation;
  };
}

/** A node's plain value, as Ansible's JSON would carry it (dates become ISO text). */
export function plainValue(source: AnsibleYaml, node: unknown): unknown {
  if (node === null || node === undefined) return null;
  const value: unknown = (node as Node).toJS(source.doc);
  return jsonSafe(value);
}

function jsonSafe(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/T00:00:00\.000Z$/, '');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), jsonSafe(v)]));
  }
  if (value instanceof Set) return [...value].map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

function keyOf(node: unknown): string {
  return isScalar(node) ? String(node.value) : String(node);
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/**
 * An Ansible YAML inventory (plugins/inventory/yaml.py): top-level keys are groups, each with
 * optional `vars`, `hosts` (patterns, each with its vars) and `children` (groups, recursively).
 * Ansible skips unexpected keys and non-map groups with a warning; here they are errors (with
 * file:line), since a misspelt `host:` would otherwise drop hosts from a deploy silently.
 */
export function readAnsibleYamlInventory(source: AnsibleYaml, data: AnsibleInventoryData): void {
  const root = source.doc.contents;
  if (isNull(root)) throw new UserError('the inventory is empty', { file: source.file });
  if (!isMap(root)) {
    throw new UserError(
      'a YAML inventory must be a map of groups (all:, web:, ...)',
      whereIs(source, root),
    );
  }
  for (const pair of root.items) {
    const name = keyOf(pair.key);
    if (name === 'plugin') {
      throw new UserError(
        'this is an inventory plugin configuration (plugin:), not an inventory',
        whereIs(source, pair.key),
        'run `ansible-inventory -i THIS_FILE --list > inventory.json` and pass inventory.json',
      );
    }
    parseGroup(source, data, name, pair.value, pair.key, name);
  }
}

function parseGroup(
  source: AnsibleYaml,
  data: AnsibleInventoryData,
  name: string,
  node: unknown,
  keyNode: unknown,
  keyPath: string,
): string {
  const where = whereIs(source, keyNode, keyPath);
  if (!isNull(node) && !isMap(node)) {
    throw new UserError(`the group "${name}" must be a map (vars, hosts, children)`, where);
  }
  data.addGroup(name, where);
  if (isNull(node)) return name;
  for (const pair of (node as YAMLMap).items) {
    const section = keyOf(pair.key);
    const sectionPath = `${keyPath}.${section}`;
    if (!['vars', 'hosts', 'children'].includes(section)) {
      throw new UserError(
        `unexpected key "${section}" in the group "${name}": only vars, hosts and children are valid`,
        whereIs(source, pair.key, sectionPath),
      );
    }
    let value: unknown = pair.value;
    if (isNull(value)) continue;
    // Ansible allows `hosts: web01` (a string) for a one-entry map.
    if (isScalar(value) && typeof value.value === 'string') {
      const one = value;
      value = { items: [{ key: one, value: null }] };
    } else if (!isMap(value)) {
      throw new UserError(
        `"${section}" of the group "${name}" must be a map`,
        whereIs(source, pair.value, sectionPath),
      );
    }
    const items = (value as { items: { key: unknown; value: unknown }[] }).items;
    if (section === 'vars') {
      for (const item of items) {
        const key = keyOf(item.key);
        const where = whereIs(source, item.key, `${sectionPath}.${key}`);
        data.setGroupVar(
          name,
          key,
          plainValue(source, item.value),
          where,
          locatorFor(source, item.value, where),
        );
      }
    } else if (section === 'children') {
      for (const item of items) {
        const child = keyOf(item.key);
        const childPath = `${sectionPath}.${child}`;
        parseGroup(source, data, child, item.value, item.key, childPath);
        data.addChild(name, child, whereIs(source, item.key, childPath));
      }
    } else {
      for (const item of items) {
        if (!isScalar(item.key) || typeof item.key.value !== 'string') {
          throw new UserError(
            'a host name must be a string: enclose numbers in quotes',
            whereIs(source, item.key, sectionPath),
          );
        }
        const pattern = item.key.value;
        const hostWhere = whereIs(source, item.key, `${sectionPath}.${pattern}`);
        let expanded: { names: string[]; port?: number };
        try {
          expanded = expandAnsibleHostPattern(pattern);
        } catch (err) {
          throw new UserError((err as Error).message, hostWhere);
        }
        const vars = item.value;
        if (!isNull(vars) && !isMap(vars)) {
          throw new UserError(
            `the host "${pattern}" must hold a map of variables`,
            whereIs(source, vars, `${sectionPath}.${pattern}`),
          );
        }
        for (const hostName of expanded.names) {
          const isNew = !data.hosts.has(hostName);
          data.addHost(hostName, name, hostWhere);
          if (isNew && expanded.port) {
            data.setHostVar(hostName, 'ansible_port', expanded.port, hostWhere);
          }
          if (isNull(vars)) continue;
          for (const v of (vars as YAMLMap).items) {
            const key = keyOf(v.key);
            const where = whereIs(source, v.key, `${sectionPath}.${pattern}.${key}`);
            data.setHostVar(
              hostName,
              key,
              plainValue(source, v.value),
              where,
              locatorFor(source, v.value, where),
            );
          }
        }
      }
    }
  }
  return name;
}
