import { dotenvKeys } from '../dotenv.js';

/** Which top-level keys of a secret file a change adds, removes or changes: names only. */
export interface SecretKeyChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/**
 * Compares two versions of a secret file by key. Undefined when either side cannot be parsed
 * with certainty, because then a "key" could be a fragment of a value (a multi-line PEM block
 * has lines that look like `KEY=`), and printing it would leak part of the secret.
 */
export function compareSecretKeys(
  path: string,
  before: string,
  after: string,
): SecretKeyChanges | undefined {
  const parse = path.toLowerCase().endsWith('.json') ? jsonEntries : dotenvEntries;
  const [old, now] = [parse(before), parse(after)];
  if (!old || !now) return undefined;
  const changes: SecretKeyChanges = { added: [], removed: [], changed: [] };
  for (const [key, value] of now) {
    const previous = old.get(key);
    if (previous === undefined) changes.added.push(key);
    else if (previous !== value) changes.changed.push(key);
  }
  for (const key of old.keys()) if (!now.has(key)) changes.removed.push(key);
  return changes;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Key → value text of a .env file, or undefined unless every binding sits on one line as a
 * plain `KEY=value`. The check walks the text the way python-dotenv's reader does (its quoted
 * values may span lines), so a quoted value that continues on later lines is noticed instead of
 * its lines being taken for keys; dotenvKeys then reads the now line-based text.
 */
function dotenvEntries(text: string): Map<string, string> | undefined {
  const keys = lineBasedDotenvKeys(text);
  if (!keys) return undefined;
  const entries = dotenvKeys(text);
  if (entries.size !== keys.size || [...keys].some((key) => !entries.has(key))) return undefined;
  return entries;
}

// The regexes of python-dotenv's parser (0.21), applied at one position (sticky).
const MULTILINE_WHITESPACE = /\s*/y;
const COMMENT_LINE = /#[^\r\n]*(?:\r\n|\n|\r|$)/y;
const BINDING_START = /(?:export[^\S\r\n]+)?([^=#\s]+)[^\S\r\n]*=[^\S\r\n]*/y;
const SINGLE_QUOTED = /'((?:\\'|[^'])*)'/y;
const DOUBLE_QUOTED = /"((?:\\"|[^"])*)"/y;
const UNQUOTED = /[^\r\n]*/y;
const LINE_END = /(?:[^\S\r\n]*#[^\r\n]*)?[^\S\r\n]*(?:\r\n|\n|\r|$)/y;

function lineBasedDotenvKeys(text: string): Set<string> | undefined {
  const keys = new Set<string>();
  let pos = 0;
  const read = (regex: RegExp): RegExpExecArray | null => {
    regex.lastIndex = pos;
    const match = regex.exec(text);
    if (match) pos = regex.lastIndex;
    return match;
  };
  for (;;) {
    read(MULTILINE_WHITESPACE);
    if (pos >= text.length) return keys;
    if (read(COMMENT_LINE)) continue;
    const binding = read(BINDING_START);
    const key = binding?.[1];
    if (key === undefined || !ENV_KEY.test(key)) return undefined;
    const quote = text[pos];
    const value =
      quote === "'" ? read(SINGLE_QUOTED) : quote === '"' ? read(DOUBLE_QUOTED) : read(UNQUOTED);
    if (!value || /[\r\n]/.test(value[0])) return undefined;
    if (!read(LINE_END)) return undefined;
    keys.add(key);
  }
}

function jsonEntries(text: string): Map<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text === '' ? '{}' : text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return new Map(Object.entries(parsed).map(([key, value]) => [key, canonicalJson(value)]));
}

/** JSON with object keys sorted, so a reordered file does not count as changed. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
