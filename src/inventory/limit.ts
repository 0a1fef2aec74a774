import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import type { HostSpec, Inventory } from './types.js';
import { describeFsError } from './yaml-source.js';

/**
 * Hosts selected by an Ansible-style `--limit` pattern, in inventory order:
 * terms separated by `:` or `,` are a union, `&term` intersects, `!term` excludes (intersections
 * and exclusions apply after the union, wherever they are written). A term is a host name, a
 * group name, a glob (`web*`, `db?`, `[ab]*`), `~regex` (searched in host and group names) or
 * `@file` (names or terms, one per line). `all` and `*` are every host. A term that matches
 * nothing is an error: a typo must not silently widen or narrow a deploy.
 */
export function selectHosts(inventory: Inventory, pattern: string | undefined): HostSpec[] {
  if (pattern === undefined || pattern.trim() === '') return [...inventory.hosts];
  const terms = splitPattern(pattern);
  const union = new Set<string>();
  const intersections: Set<string>[] = [];
  const exclusions = new Set<string>();
  let sawPositive = false;
  for (const term of expandFiles(terms)) {
    if (term.op === '&') {
      intersections.push(match(inventory, term));
    } else if (term.op === '!') {
      for (const name of match(inventory, term)) exclusions.add(name);
    } else {
      sawPositive = true;
      for (const name of match(inventory, term)) union.add(name);
    }
  }
  // `!web01` alone means everything but web01, as in Ansible.
  if (!sawPositive) for (const host of inventory.hosts) union.add(host.name);
  const selected = inventory.hosts.filter(
    (host) =>
      union.has(host.name) &&
      intersections.every((set) => set.has(host.name)) &&
      !exclusions.has(host.name),
  );
  if (selected.length === 0) {
    throw new UserError(`--limit ${pattern}: the pattern selects no host`);
  }
  return selected;
}

/** `,` separates first; `:` too, except inside a `~regex` (which may hold a colon) or `[...]`. */
function splitPattern(pattern: string): string[] {
  const terms: string[] = [];
  for (const piece of pattern.split(',')) {
    const trimmed = piece.trim();
    if (trimmed === '') continue;
    if (/^[&!]?~/.test(trimmed)) terms.push(trimmed);
    // Ansible's split_host_pattern: `:` separates, except inside a bracketed expression
    // (`web[1:3]`, a subscript; `web0[12]`, a glob class).
    else terms.push(...(trimmed.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? []));
  }
  return terms;
}

interface Term {
  op: '' | '&' | '!';
  text: string;
  /** Set for terms read from `@file`: where to point when it matches nothing. */
  from?: { file: string; line: number };
}

function* expandFiles(terms: readonly string[]): Generator<Term> {
  for (const written of terms) {
    const op = written.startsWith('&') ? '&' : written.startsWith('!') ? '!' : '';
    const body = written.slice(op.length);
    if (!body.startsWith('@')) {
      yield { op, text: body };
      continue;
    }
    const file = body.slice(1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`--limit @${file}: cannot read the file: ${describeFsError(err)}`);
    }
    for (const [index, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      yield { op, text: line, from: { file, line: index + 1 } };
    }
  }
}

/** Ansible's PATTERN_WITH_SUBSCRIPT (inventory/manager.py): `web[0]`, `web[-1]`, `web[1:3]`, `web[2:]`. */
const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

/**
 * A subscripted term on an Ansible inventory, as Ansible's _match_one_pattern: the hosts the
 * expression matches, in its order (matching groups' hosts, then matching hosts for a glob),
 * then `[i]` (negative from the end) or `[a:b]` (inclusive; `[a:]` to the end).
 */
function matchSubscript(
  inventory: Inventory,
  groupHosts: (group: string) => string[],
  term: Term,
  subscript: RegExpExecArray,
): Set<string> {
  const expr = subscript[1] as string;
  const regex = globToRegex(expr);
  const matched: string[] = [];
  const groups = [...inventory.groups.keys()].filter((name) => regex.test(name));
  for (const group of groups) matched.push(...groupHosts(group));
  if (groups.length === 0 || /[.?*[]/.test(expr)) {
    for (const host of inventory.hosts) if (regex.test(host.name)) matched.push(host.name);
  }
  let picked: string[];
  if (subscript[2] !== undefined) {
    const index = Number(subscript[2]);
    const host = matched[index < 0 ? matched.length + index : index];
    picked = host === undefined ? [] : [host];
  } else {
    const start = Number(subscript[3]);
    const end = subscript[5] === '' ? matched.length - 1 : Number(subscript[5]);
    // Python's `if end:`: an end of 0 picks the start alone.
    picked = end === 0 ? matched.slice(start, start + 1) : matched.slice(start, end + 1);
  }
  if (picked.length === 0) {
    throw termError(term, 'matches no host (the subscript is out of range)');
  }
  return new Set(picked);
}

function match(inventory: Inventory, term: Term): Set<string> {
  const { text } = term;
  const subscript = inventory.ansibleGroupHosts && !text.startsWith('~') && SUBSCRIPT.exec(text);
  if (subscript && inventory.ansibleGroupHosts) {
    return matchSubscript(inventory, inventory.ansibleGroupHosts, term, subscript);
  }
  const hosts = new Set<string>();
  const addGroup = (group: string) => {
    for (const name of inventory.groups.get(group) ?? []) hosts.add(name);
  };
  const hostNames = inventory.hosts.map((host) => host.name);
  const groupNames = [...inventory.groups.keys()];
  if (text === 'all' || text === '*') {
    hostNames.forEach((name) => hosts.add(name));
  } else if (text.startsWith('~')) {
    let regex: RegExp;
    try {
      // Anchored at the start, as Python's re.match in Ansible's pattern matching.
      regex = new RegExp(`^(?:${text.slice(1)})`);
    } catch (err) {
      throw termError(term, `is not a valid regular expression: ${(err as Error).message}`);
    }
    hostNames.filter((name) => regex.test(name)).forEach((name) => hosts.add(name));
    groupNames.filter((name) => regex.test(name)).forEach(addGroup);
  } else if (/[*?[]/.test(text)) {
    const regex = globToRegex(text);
    hostNames.filter((name) => regex.test(name)).forEach((name) => hosts.add(name));
    groupNames.filter((name) => regex.test(name)).forEach(addGroup);
  } else {
    if (inventory.groups.has(text)) addGroup(text);
    if (hostNames.includes(text)) hosts.add(text);
  }
  if (hosts.size === 0) {
    throw termError(
      term,
      'matches no host or group',
      didYouMean(text, [...hostNames, ...groupNames]),
    );
  }
  return hosts;
}

function termError(term: Term, problem: string, hint?: string): UserError {
  const location = term.from ? { file: term.from.file, line: term.from.line } : undefined;
  const prefix = term.from ? '' : '--limit: ';
  return new UserError(`${prefix}"${term.text}" ${problem}`, location, hint);
}

function globToRegex(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        source += `[${glob
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
