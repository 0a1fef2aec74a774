import { isAlias, isMap, isNode, isPair } from 'yaml';
import type { SourceLocation } from '../errors.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import { formatKeyPath, keyText, locate } from './yaml-source.js';

/** Where a value was written: for messages, and for resolving relative `file:` references. */
export interface Origin {
  location: SourceLocation;
  /** Directory relative local paths in this value are resolved against. */
  dir: string;
}

/**
 * Settings as a tree that remembers where each part came from, so that after the merge a value
 * can still be traced to its file, line and key path. Maps merge key by key; a leaf (scalar,
 * list, secret reference, document) replaces whatever was there.
 */
export type Layer = LayerMap | LayerLeaf;

export class LayerMap {
  readonly kind = 'map';
  constructor(
    readonly entries: ReadonlyMap<string, Layer>,
    readonly origin: Origin,
  ) {}
}

export class LayerLeaf {
  readonly kind = 'leaf';
  constructor(
    readonly value: unknown,
    readonly origin: Origin,
  ) {}
}

/** Later wins: maps merge recursively, anything else replaces. */
export function mergeLayers(base: Layer | undefined, over: Layer): Layer {
  if (!(base instanceof LayerMap) || !(over instanceof LayerMap)) return over;
  const entries = new Map(base.entries);
  for (const [key, value] of over.entries) entries.set(key, mergeLayers(entries.get(key), value));
  return new LayerMap(entries, over.origin);
}

/** Settings-relative paths whose maps are single values (a secret ref, a `{ file: }`). */
export function isAtomic(settingsPath: readonly string[]): boolean {
  // `hermes.secrets.X`, and the same inside an instance: `instances.NAME.secrets.X`.
  const hermes = settingsPath[0] === 'instances' ? settingsPath.slice(2) : settingsPath.slice(1);
  return (
    (settingsPath[0] === 'hermes' || settingsPath[0] === 'instances') &&
    hermes.length === 2 &&
    (hermes[0] === 'secrets' || hermes[0] === 'documents')
  );
}

/**
 * The layer for the host settings (`ssh`/`hermes` map) at `docPath` of `source`. The document
 * has passed the schema, so the shapes are known to be right.
 */
export function layerFromYaml(source: YamlSource, docPath: readonly PathSegment[]): Layer {
  const node = nodeAt(source, docPath);
  return build(source, node, docPath, []);
}

function build(
  source: YamlSource,
  node: unknown,
  docPath: readonly PathSegment[],
  settingsPath: readonly string[],
): Layer {
  const resolved = isAlias(node) ? node.resolve(source.doc) : node;
  const origin: Origin = { location: locate(source, docPath), dir: source.dir };
  if (isMap(resolved) && !isAtomic(settingsPath)) {
    const entries = new Map<string, Layer>();
    for (const item of resolved.items) {
      const key = keyText(item.key);
      entries.set(key, build(source, item.value, [...docPath, key], [...settingsPath, key]));
    }
    return new LayerMap(entries, origin);
  }
  const value: unknown = isNode(resolved) ? resolved.toJS(source.doc) : null;
  return new LayerLeaf(value ?? null, origin);
}

function nodeAt(source: YamlSource, docPath: readonly PathSegment[]): unknown {
  let node: unknown = source.doc.contents;
  for (const seg of docPath) {
    if (isAlias(node)) node = node.resolve(source.doc);
    if (!isMap(node)) return undefined;
    const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(seg));
    node = pair?.value;
  }
  return node;
}

/** A layer built from plain data (the `-e key=value` form), all from one place. */
export function layerFromValue(
  value: unknown,
  where: { file: string; dir: string },
  segments: readonly string[] = [],
): Layer {
  const origin: Origin = {
    location: { file: where.file, keyPath: formatKeyPath(segments) },
    dir: where.dir,
  };
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !isAtomic(segments)) {
    const entries = new Map<string, Layer>();
    for (const [key, child] of Object.entries(value)) {
      entries.set(key, layerFromValue(child, where, [...segments, key]));
    }
    return new LayerMap(entries, origin);
  }
  return new LayerLeaf(value, origin);
}

/** Back to plain data (maps as objects in their written order). */
export function unwrap(layer: Layer): unknown {
  if (layer instanceof LayerLeaf) return layer.value;
  const out: Record<string, unknown> = {};
  for (const [key, value] of layer.entries) out[key] = unwrap(value);
  return out;
}
