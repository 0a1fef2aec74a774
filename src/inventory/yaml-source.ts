import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { SourceLocation } from '../errors.js';
import { UserError } from '../errors.js';

/** One parsed YAML input with what it takes to point at a line and column of it. */
export interface YamlSource {
  /** The path as the person wrote it, for messages. */
  file: string;
  /** Directory that relative references in this file are resolved against. */
  dir: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export type PathSegment = string | number;

export async function readYamlFile(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the file: ${describeFsError(err)}`, { file });
  }
  return parseYaml(text, file, path.dirname(path.resolve(file)));
}

export function parseYaml(text: string, file: string, dir: string): YamlSource {
  const lines = new LineCounter();
  // Duplicate keys are an error (uniqueKeys) so that a repeated key is never silently dropped.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = { file, dir, doc, lines };
  const first = doc.errors[0];
  if (first?.code === 'DUPLICATE_KEY') throw duplicateKeyError(source);
  if (first) {
    const { line, col } = lines.linePos(first.pos[0]);
    const message = first.message.split('\n')[0] ?? first.message;
    throw new UserError(
      `YAML syntax error: ${message.replace(/ at line \d+, column \d+.*$/, '')}`,
      {
        file,
        line,
        column: col,
      },
    );
  }
  return source;
}

/** yaml points a duplicate at the first key; the person needs the second one and its path. */
function duplicateKeyError(source: YamlSource): UserError {
  let found: UserError | undefined;
  visit(source.doc, {
    Map(_, map, ancestors) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = keyText(pair.key);
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const segments = [
          ...ancestors.filter(isPair).map((ancestor) => keyText(ancestor.key)),
          key,
        ];
        const range = (pair.key as Node | null)?.range;
        const pos = range ? source.lines.linePos(range[0]) : undefined;
        found = new UserError(`the key "${key}" appears twice`, {
          file: source.file,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
          keyPath: formatKeyPath(segments),
        });
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found ?? new UserError('YAML syntax error: duplicate keys', { file: source.file });
}

export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** `all.children.eu.vars`: dots between plain keys, quoted brackets for anything else. */
export function formatKeyPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function deref(source: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.doc) : node;
}

function pairFor(node: unknown, seg: PathSegment): Pair | undefined {
  if (!isMap(node)) return undefined;
  return node.items.find((item) => isPair(item) && keyText(item.key) === String(seg));
}

export function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/**
 * Where `segments` points in the document. `at: 'key'` points at the key itself (unknown keys,
 * bad names); otherwise at the value, or at the key when the value is empty. A path that leaves
 * the document points at the deepest part that exists.
 */
export function locate(
  source: YamlSource,
  segments: readonly PathSegment[],
  at: 'key' | 'value' = 'value',
): SourceLocation {
  let node: unknown = source.doc.contents;
  let keyNode: unknown;
  for (const seg of segments) {
    node = deref(source, node);
    if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) break;
      keyNode = undefined;
      node = item;
      continue;
    }
    const pair = pairFor(node, seg);
    if (!pair) break;
    keyNode = pair.key;
    node = pair.value;
  }
  const target = at === 'key' && keyNode ? keyNode : (node ?? keyNode);
  const location: SourceLocation = { file: source.file, keyPath: formatKeyPath(segments) };
  const range = (target as Node | null | undefined)?.range;
  if (range) {
    const { line, col } = source.lines.linePos(range[0]);
    location.line = line;
    location.column = col;
  }
  return location;
}
