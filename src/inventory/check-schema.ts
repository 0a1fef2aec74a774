import * as z from 'zod';
import { UserError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import type { SourceLocation } from '../errors.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import { locate } from './yaml-source.js';

/** Turns a key path of the checked data into a place a person can find. */
export type Locator = (path: readonly PathSegment[], at?: 'key' | 'value') => SourceLocation;

export function yamlLocator(source: YamlSource): Locator {
  return (path, at) => locate(source, path, at);
}

type Issue = z.core.$ZodIssue;
type JsonSchema = Record<string, unknown>;

/**
 * Validates `data` (the JavaScript form of an input) against `schema`; on failure throws a
 * UserError for the first problem, located at its line and column with its key path. Values are
 * never quoted in these messages: a secret pasted in the wrong place must not be echoed.
 */
export function checkSchema(schema: z.ZodType, data: unknown, source: Locator): void {
  const result = schema.safeParse(data);
  if (result.success) return;
  const issue = pickIssue(result.error.issues, data);
  throw toUserError(issue, data, source, schema);
}

interface Located {
  issue: Issue;
  path: PathSegment[];
}

function pickIssue(issues: readonly Issue[], data: unknown, prefix: PathSegment[] = []): Located {
  const all = issues.map((issue) => unwrapUnion(issue, prefix, data));
  const first = all[0];
  if (!first) throw new Error('zod reported failure without issues');
  // A misspelt key also makes the real key "missing": the unknown key is the cause to report.
  if (isMissing(first, data)) {
    const parent = first.path.slice(0, -1);
    const unknown = all.find(
      (other) => other.issue.code === 'unrecognized_keys' && samePath(other.path, parent),
    );
    if (unknown) return unknown;
  }
  return first;
}

function isMissing(located: Located, data: unknown): boolean {
  return (
    located.issue.code === 'invalid_type' &&
    located.path.length > 0 &&
    valueAt(data, located.path) === undefined
  );
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((seg, i) => seg === b[i]);
}

/** For a union, the branch whose problem is not merely "wrong type" says what was meant. */
function unwrapUnion(issue: Issue, prefix: PathSegment[], data: unknown): Located {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  if (issue.code !== 'invalid_union') return { issue, path };
  const branches = issue.errors.filter((branch) => branch.length > 0);
  const meaningful = branches.find(
    (branch) =>
      !(branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0),
  );
  if (!meaningful) return { issue, path };
  return pickIssue(meaningful, data, path);
}

function toUserError(
  located: Located,
  data: unknown,
  source: Locator,
  schema: z.ZodType,
): UserError {
  const { issue, path } = located;
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const keyPath = [...path, key];
      const allowed = knownKeys(schema, path);
      const hint =
        didYouMean(key, allowed) ??
        (allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : undefined);
      return new UserError(`unknown key "${key}"`, source(keyPath, 'key'), hint);
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const message = inner ? messageOf(inner) : 'invalid name';
      return new UserError(`invalid name: ${message}`, source(path, 'key'));
    }
    case 'invalid_type': {
      if (value === undefined && path.length > 0) {
        const key = String(path[path.length - 1]);
        return new UserError(`the key "${key}" is required`, source(path.slice(0, -1)));
      }
      return new UserError(
        `expected ${expectedWord(issue.expected)}, got ${describeValue(value)}`,
        source(path),
        hintFor(path),
      );
    }
    case 'invalid_union': {
      const expected = issue.errors
        .map((branch) => branch[0])
        .filter((inner): inner is Issue => inner?.code === 'invalid_type')
        .map((inner) => expectedWord((inner as { expected: string }).expected));
      return new UserError(
        `expected ${[...new Set(expected)].join(' or ')}, got ${describeValue(value)}`,
        source(path),
        hintFor(path),
      );
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
      return new UserError(`must be one of: ${options.join(', ')}`, source(path), hint);
    }
    default:
      return new UserError(messageOf(issue), source(path));
  }
}

function hintFor(path: readonly PathSegment[]): string | undefined {
  if (path.at(-2) === 'secrets') {
    return 'a secret is { env: VAR }, { file: path } or { command: "…" }; never the value itself';
  }
  if (path.at(-2) === 'documents') return 'a document is inline text or { file: path }';
  return undefined;
}

function messageOf(issue: Issue): string {
  if (issue.code === 'too_small' && issue.message.startsWith('Too small')) {
    return issue.origin === 'string' || issue.origin === 'array'
      ? 'must not be empty'
      : `must be at least ${String(issue.minimum)}`;
  }
  if (issue.code === 'too_big' && issue.message.startsWith('Too big')) {
    return `must be at most ${String(issue.maximum)}`;
  }
  if (issue.code === 'invalid_type') return `expected ${expectedWord(issue.expected)}`;
  return issue.message;
}

function expectedWord(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
    case 'int':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return 'a map';
    case 'array':
      return 'a list';
    case 'null':
      return 'nothing';
    default:
      return expected;
  }
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[String(seg)];
  }
  return node;
}

/** Keys the schema allows at `path`, read from its JSON Schema (only needed for a hint). */
function knownKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  const root = z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema;
  const defs = (root.$defs ?? root.definitions ?? {}) as Record<string, JsonSchema>;
  const expand = (node: JsonSchema): JsonSchema[] => {
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const target = ref === '#' ? root : defs[ref.split('/').pop() ?? ''];
      return target ? expand(target) : [];
    }
    const branches = [...asList(node.anyOf), ...asList(node.allOf), ...asList(node.oneOf)];
    return branches.length > 0 ? branches.flatMap(expand) : [node];
  };
  let nodes = expand(root);
  for (const seg of path) {
    nodes = nodes.flatMap((node) => {
      const props = node.properties as Record<string, JsonSchema> | undefined;
      const own = props?.[String(seg)];
      if (own) return expand(own);
      const extra = node.additionalProperties;
      return typeof extra === 'object' && extra !== null ? expand(extra as JsonSchema) : [];
    });
  }
  return [...new Set(nodes.flatMap((node) => Object.keys(node.properties ?? {})))];
}

function asList(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? (value as JsonSchema[]) : [];
}
