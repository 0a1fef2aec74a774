import { UserError } from '../errors.js';
import type { AnsibleInventoryData } from './ansible-data.js';
import { expandAnsibleHostPattern } from './ansible-hosts.js';
import { iniValue } from './python-literal.js';
import { shlexSplit } from './shlex.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;
/** Python's str.splitlines() boundaries. */
// The separators \x1c-\x1e are the point, as Python's splitlines() breaks on them.
// eslint-disable-next-line no-control-regex
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const EXOTIC_BREAK = /[\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

interface Pending {
  line: number;
  state: 'vars' | 'children';
  parents: string[];
}

/**
 * An INI inventory read as Ansible's ini plugin reads it (plugins/inventory/ini.py), into
 * `data`: hosts before any section are ungrouped; `[g]` lists hosts (`name[:port] k=v ...`,
 * cut as shlex does), `[g:children]` group names, `[g:vars]` `k=v` lines (not shlex-cut: the
 * value is the rest of the line). Every value is typed by Python's literal_eval. A child or a
 * `:vars` section naming a group defined nowhere in the file is an error, as in Ansible; every
 * error carries file:line.
 */
export function parseIniInventory(text: string, file: string, data: AnsibleInventoryData): void {
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';
  // Most files break lines with \n alone; the full set of Python's breaks costs a slower split.
  const lines = EXOTIC_BREAK.test(text) ? text.split(LINE_BREAK) : text.split('\n');
  let lineNo = 0;
  let where = { file, line: 0 };
  const fail = (message: string, hint?: string): never => {
    throw new UserError(message, where, hint);
  };
  for (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    where = { file, line: lineNo };
    const section = SECTION.exec(line);
    if (section) {
      group = section[1] as string;
      state = section[2] ?? 'hosts';
      if (!['hosts', 'children', 'vars'].includes(state)) {
        fail(
          `section [${group}:${state}] has an unknown type "${state}"`,
          'a section is [group], [group:children] or [group:vars]',
        );
      }
      if (!data.groups.has(group)) {
        if (state === 'vars' && !pending.has(group)) {
          pending.set(group, { line: lineNo, state: 'vars', parents: [] });
        }
        data.addGroup(group, where);
      }
      const waiting = pending.get(group);
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') addPendingChildren(group, pending, data, file);
        else pending.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(
        `invalid section "${line}"`,
        'a section is [group], [group:children] or [group:vars], without spaces',
      );
    }
    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shlexSplit(line);
      } catch (err) {
        return fail(`cannot read the host line: ${(err as Error).message}`);
      }
      const pattern = tokens[0];
      if (pattern === undefined) continue;
      let expanded: { names: string[]; port?: number };
      try {
        expanded = expandAnsibleHostPattern(pattern);
      } catch (err) {
        return fail((err as Error).message);
      }
      if (pattern.trim().endsWith(':') && expanded.port === undefined) {
        fail(`invalid host pattern "${pattern}": a trailing ":" must be followed by a port`);
      }
      if (expanded.names.some((name) => name.trim() === '---')) {
        fail(`invalid host pattern "${pattern}": "---" is normally a sign this is a YAML file`);
      }
      const vars: [string, unknown][] = [];
      for (const token of tokens.slice(1)) {
        const eq = token.indexOf('=');
        if (eq === -1) {
          fail(
            `expected key=value after the host name, got "${token}"`,
            'quote a value holding spaces: key="a b"',
          );
        }
        vars.push([token.slice(0, eq), iniValue(token.slice(eq + 1))]);
      }
      for (const name of expanded.names) {
        const isNew = !data.hosts.has(name);
        data.addHost(name, group, where);
        // Host(name, port): the port counts only where the host first appears.
        if (isNew && expanded.port !== undefined && expanded.port !== 0) {
          data.setHostVar(name, 'ansible_port', expanded.port, {
            ...where,
            keyPath: 'ansible_port',
          });
        }
        for (const [key, value] of vars)
          data.setHostVar(name, key, value, { ...where, keyPath: key });
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq === -1) fail(`expected key=value in [${group}:vars], got "${line}"`);
      const key = line.slice(0, eq).trim();
      data.setGroupVar(group, key, iniValue(line.slice(eq + 1).trim()), { ...where, keyPath: key });
    } else {
      const match = GROUP_NAME.exec(line);
      if (!match) return fail(`expected a group name in [${group}:children], got "${line}"`);
      const child = match[1] as string;
      if (data.groups.has(child)) {
        data.addChild(group, child, where);
      } else {
        const waiting = pending.get(child);
        if (waiting) waiting.parents.push(group);
        else pending.set(child, { line: lineNo, state: 'children', parents: [group] });
      }
    }
  }
  for (const [name, decl] of pending) {
    const where = { file, line: decl.line };
    if (decl.state === 'vars') {
      throw new UserError(
        `section [${name}:vars] is for a group defined nowhere: ${name}`,
        where,
        `list hosts under [${name}] or make it a child in a [parent:children] section`,
      );
    }
    throw new UserError(
      `section [${decl.parents.at(-1) ?? ''}:children] includes a group defined nowhere: ${name}`,
      where,
      `define it with a [${name}] or [${name}:children] section`,
    );
  }
}

function addPendingChildren(
  group: string,
  pending: Map<string, Pending>,
  data: AnsibleInventoryData,
  file: string,
): void {
  const decl = pending.get(group);
  if (!decl) return;
  for (const parent of decl.parents) {
    data.addChild(parent, group, { file, line: decl.line });
    if (pending.get(parent)?.state === 'children') {
      addPendingChildren(parent, pending, data, file);
    }
  }
  pending.delete(group);
}
