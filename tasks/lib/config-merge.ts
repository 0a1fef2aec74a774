import { Document, isAlias, isCollection, isMap, isScalar, parseDocument, visit } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import { PlanError } from '../../src/plan/types.js';
import { PYYAML_DOCUMENT, PYYAML_TO_STRING, quoteUnsafeScalars } from './yaml-compat.js';

/** A JSON-like value: what `builtins.toJSON cfg.settings` can hold. */
export type Plain = null | boolean | number | string | Plain[] | PlainMap;
export interface PlainMap {
  [key: string]: Plain;
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `value` is JSON-like (a Secret or a Date in settings would otherwise be rendered
 * as something nobody asked for). `undefined` members are dropped, as JSON does.
 */
export function toPlain(value: unknown, where: string): Plain {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new PlanError(`${where}: ${value} cannot go into config.yaml`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => toPlain(v, `${where}[${i}]`));
  if (isPlainMap(value)) {
    const out: PlainMap = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = toPlain(v, `${where}.${k}`);
    }
    return out;
  }
  throw new PlanError(`${where}: a ${typeof value} value cannot go into config.yaml`);
}

/**
 * The NixOS merge script's `deep_merge(base, override)`: maps merge key by key, recursively;
 * anything else (lists, scalars, a map meeting a non-map) is replaced by the override.
 */
export function deepMerge(
  base: Readonly<Record<string, unknown>>,
  override: PlainMap,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isPlainMap(current) && isPlainMap(value) ? deepMerge(current, value) : value;
  }
  return result;
}

/** Structural equality of loaded YAML values; a Date, Set or binary never equals a Plain. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (isPlainMap(a) && isPlainMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return false;
}

export type MergeOutcome =
  /** The current file already holds every managed value: nothing to write. */
  | { kind: 'unchanged' }
  /** New text; `brokenText` is set when the current file could not be merged into and is lost. */
  | {
      kind: 'write';
      text: string;
      note: string;
      brokenText?: string;
      /** The `forget` paths that were in the file and are now out of it. */
      removed?: string[][];
    };

function render(doc: Document): string {
  return doc.toString(PYYAML_TO_STRING);
}

function freshText(value: unknown): string {
  const doc = new Document(value, PYYAML_DOCUMENT);
  if (doc.contents) quoteUnsafeScalars(doc.contents);
  return render(doc);
}

function createNode(doc: Document, value: Plain): Node {
  const node = doc.createNode(value);
  quoteUnsafeScalars(node);
  return node;
}

/** The pair PyYAML would read for `key`: the last one, since duplicate keys let the last win. */
function findPair(map: YAMLMap, key: string): Pair | undefined {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const pair = map.items[i];
    if (pair && isScalar(pair.key) && pair.key.value === key) return pair;
  }
  return undefined;
}

/** A new value node in the old one's place, keeping the person's comments and flow style. */
function replacement(doc: Document, old: unknown, value: Plain): Node {
  const node = createNode(doc, value);
  if (isScalar(old) || isCollection(old)) {
    if (old.commentBefore) node.commentBefore = old.commentBefore;
    if (old.comment) node.comment = old.comment;
    if (old.spaceBefore) node.spaceBefore = old.spaceBefore;
    if (isCollection(old) && isCollection(node) && old.flow) node.flow = true;
  }
  return node;
}

/** Merges `want` into `map` node by node; returns whether anything changed. */
function mergeIntoMap(doc: Document, map: YAMLMap, want: PlainMap): boolean {
  let changed = false;
  for (const [key, value] of Object.entries(want)) {
    const pair = findPair(map, key);
    if (!pair) {
      map.items.push(doc.createPair(createNode(doc, key), createNode(doc, value)));
      changed = true;
    } else if (isPlainMap(value) && isMap(pair.value)) {
      if (mergeIntoMap(doc, pair.value, value)) changed = true;
    } else {
      const current: unknown =
        isScalar(pair.value) || isCollection(pair.value) ? pair.value.toJS(doc) : null;
      if (isPlainMap(value) || !sameValue(current, value)) {
        pair.value = replacement(doc, pair.value, value);
        changed = true;
      }
    }
  }
  return changed;
}

/**
 * Takes `path` out of the map, and every map that this leaves empty, up to (not including) the
 * top; a path the file does not hold (or holds under something that is not a map) is left be.
 */
function removeFromMap(top: YAMLMap, path: readonly string[]): boolean {
  const chain: { map: YAMLMap; pair: Pair }[] = [];
  let map: YAMLMap | undefined = top;
  for (const key of path) {
    if (!map) return false;
    const pair = findPair(map, key);
    if (!pair) return false;
    chain.push({ map, pair });
    map = isMap(pair.value) ? pair.value : undefined;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const link = chain[i];
    if (!link) break;
    link.map.items.splice(link.map.items.indexOf(link.pair), 1);
    if (link.map.items.length > 0 || i === 0) break;
  }
  return chain.length > 0;
}

/** The same on loaded data (a file with anchors is edited as data). */
function removeFromData(top: Record<string, unknown>, path: readonly string[]): boolean {
  const chain: Record<string, unknown>[] = [];
  let map: unknown = top;
  for (const key of path.slice(0, -1)) {
    if (!isPlainMap(map) || !(key in map)) return false;
    chain.push(map);
    map = map[key];
  }
  const last = path.at(-1);
  if (last === undefined || !isPlainMap(map) || !(last in map)) return false;
  Reflect.deleteProperty(map, last);
  for (let i = chain.length - 1; i >= 0; i--) {
    const parent = chain[i];
    const key = path[i];
    if (!parent || key === undefined || !isPlainMap(parent[key])) break;
    if (Object.keys(parent[key]).length > 0) break;
    Reflect.deleteProperty(parent, key);
  }
  return true;
}

/** Aliases and `<<` merge keys make one node stand for several values: edit those as data. */
function hasSharedNodes(doc: Document): boolean {
  let shared = false;
  visit(doc, {
    Alias() {
      shared = true;
      return visit.BREAK;
    },
    Pair(_key, pair) {
      // A parsed merge key holds Symbol(<<); a quoted "<<" is an ordinary string key.
      if (isScalar(pair.key) && typeof pair.key.value === 'symbol') {
        shared = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return shared;
}

/**
 * config.yaml's new text: the current file with every managed value merged in, as the NixOS
 * module's merge script does (managed keys win, keys a person added survive, nothing is
 * deleted), but edited in place so the person's comments, key order and formatting survive;
 * keys new to a map go at its end. `current` undefined means the file is absent.
 *
 * A file that does not parse, holds several documents, or is not a map at the top (a list, a
 * string) cannot be merged into: the module's script would crash on it and hermes could not
 * load it either. It is replaced by the managed settings, and its text is returned as
 * `brokenText` so the caller keeps a copy beside it rather than losing the person's work.
 * An empty file (or one holding only comments, `~` or `false`, which the script reads as `{}`)
 * is simply created from the settings.
 */
export function mergeConfigText(
  current: string | undefined,
  want: PlainMap,
  forget: readonly (readonly string[])[] = [],
): MergeOutcome {
  if (current === undefined) return { kind: 'write', text: freshText(want), note: 'created' };
  const doc = parseDocument(current, PYYAML_DOCUMENT);
  // An unknown tag (`!custom`, `!!python/tuple`) is only a warning here, but safe_load fails.
  const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (problem) {
    return {
      kind: 'write',
      text: freshText(want),
      note: `the current file is not YAML that hermes can load (${problem.code}); replaced`,
      brokenText: current,
    };
  }
  const top = doc.contents;
  if (top === null || (isScalar(top) && !top.value)) {
    return { kind: 'write', text: freshText(want), note: 'the current file was empty' };
  }
  if (!isMap(top) || isAlias(top)) {
    return {
      kind: 'write',
      text: freshText(want),
      note: 'the current file does not hold a map at the top; replaced',
      brokenText: current,
    };
  }
  if (hasSharedNodes(doc)) {
    const loaded = doc.toJS() as Record<string, unknown>;
    const merged = deepMerge(loaded, want);
    const removed = forget.filter((path) => removeFromData(merged, path)).map((p) => [...p]);
    if (sameValue(loaded, merged)) return { kind: 'unchanged' };
    return {
      kind: 'write',
      text: freshText(merged),
      note: 'merged (anchors and aliases expanded)',
      ...(removed.length > 0 ? { removed } : {}),
    };
  }
  const merged = mergeIntoMap(doc, top, want);
  // Removed after the merge: a key the inventory still sets is never among `forget`.
  const removed = forget.filter((path) => removeFromMap(top, path)).map((p) => [...p]);
  if (!merged && removed.length === 0) return { kind: 'unchanged' };
  return {
    kind: 'write',
    text: render(doc),
    note: 'merged',
    ...(removed.length > 0 ? { removed } : {}),
  };
}
