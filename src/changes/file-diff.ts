import { createTwoFilesPatch } from 'diff';
import type { PathFact } from '../facts/types.js';
import { oneLine, palette, printable } from '../text.js';
import type { FileBody, Forgotten } from './record.js';
import { compareSecretKeys, type SecretKeyChanges } from './secret-keys.js';

/* What a file write shows of its content: a unified diff, or a secret file's key names. */

/** A file write as far as its diff goes (a `file` change, ./files.ts). */
export interface FileChange {
  path: string;
  body: FileBody;
  before: PathFact;
  forgets?: Forgotten[];
}

/**
 * What a secret file change may show: key names (`keys`), or only that it changed (`opaque`)
 * when a side cannot be parsed with certainty or its old content was not read.
 */
export type SecretDiff = { kind: 'keys'; keys: SecretKeyChanges } | { kind: 'opaque' };

/** A file is secret when either its new body or its content read from the host is a Secret. */
export function isSecretFile(change: FileChange): boolean {
  return 'secret' in change.body || (change.before.kind === 'file' && !!change.before.secret);
}

/** Key-level changes of a secret file; undefined for a file that is not secret. */
export function secretDiff(change: FileChange): SecretDiff | undefined {
  if (!isSecretFile(change)) return undefined;
  const after = 'secret' in change.body ? change.body.secret.reveal() : change.body.text;
  const before = previousContent(change.before);
  if (before === undefined) return { kind: 'opaque' };
  const keys = compareSecretKeys(change.path, before, after);
  if (!keys) return before === after ? { kind: 'keys', keys: noKeys() } : { kind: 'opaque' };
  const nothingByKey = keys.added.length + keys.removed.length + keys.changed.length === 0;
  // Same keys and values but other bytes (comments, order): still say that it changed.
  if (nothingByKey && before !== after) return { kind: 'opaque' };
  return { kind: 'keys', keys };
}

function noKeys(): SecretKeyChanges {
  return { added: [], removed: [], changed: [] };
}

/** The old content a diff starts from; undefined when it exists but was not read. */
function previousContent(before: PathFact): string | undefined {
  if (before.kind !== 'file') return '';
  return before.secret?.reveal() ?? before.text;
}

/**
 * The uncoloured unified diff of a plain-text file change; undefined for a secret file, when
 * the old content was not read, or when the content stays the same.
 */
export function textPatch(host: string, change: FileChange): string | undefined {
  if (isSecretFile(change) || !('text' in change.body)) return undefined;
  const before = previousContent(change.before);
  if (before === undefined || before === change.body.text) return undefined;
  const [oldName, newName] = headerNames(host, change);
  const patch = createTwoFilesPatch(
    oldName,
    newName,
    before,
    change.body.text,
    undefined,
    undefined,
    {
      headerOptions: { includeIndex: false, includeUnderline: false, includeFileHeaders: true },
    },
  );
  return printable(patch).replace(/\n$/, '');
}

function headerNames(host: string, change: FileChange): [string, string] {
  const where = oneLine(`${host}:${change.path}`);
  const absent = change.before.kind !== 'file';
  return [`${where} ${absent ? '(absent)' : '(before)'}`, `${where} (after)`];
}

/**
 * What `--diff` shows of a file's content: each key the inventory no longer has, then a unified
 * diff of a text file, or for a secret file only the names of the keys added, removed or
 * changed. Never a secret value.
 */
export function fileDiffLines(
  change: FileChange,
  { host, where, color }: { host: string; where: string; color: boolean },
): string[] {
  const c = palette(color);
  const lines: string[] = [];
  // Each key the inventory no longer has comes first; a secret file's show in its key list.
  if (!isSecretFile(change)) {
    for (const forgotten of change.forgets ?? []) {
      lines.push(c.red(`- ${forgotten.key} (no longer in the inventory)`));
    }
  }
  const secret = secretDiff(change);
  if (secret) lines.push(...secretLines(host, change, secret, color));
  else {
    const patch = textPatch(host, change);
    if (patch !== undefined) lines.push(...colourPatch(patch, color));
    else if ('text' in change.body && previousContent(change.before) === undefined) {
      lines.push(`${where}: content replaced (its previous content was not read)`);
    }
  }
  return lines;
}

function secretLines(host: string, change: FileChange, diff: SecretDiff, color: boolean): string[] {
  const c = palette(color);
  if (diff.kind === 'opaque')
    return [c.yellow(`${oneLine(`${host}:${change.path}`)}: (secret changed)`)];
  const { added, removed, changed } = diff.keys;
  if (added.length + removed.length + changed.length === 0) return [];
  const [oldName, newName] = headerNames(host, change);
  return [
    c.red(`--- ${oldName}`),
    c.green(`+++ ${newName}`),
    ...added.map((key) => c.green(`+ ${keyName(key)} (secret added)`)),
    ...removed.map((key) => c.red(`- ${keyName(key)} (secret removed)`)),
    ...changed.map((key) => c.yellow(`~ ${keyName(key)} (secret changed)`)),
  ];
}

/** A key as shown: quoted when it holds anything but plain name characters. */
function keyName(key: string): string {
  return /^[A-Za-z0-9_.@:-]+$/.test(key) ? key : oneLine(JSON.stringify(key));
}

function colourPatch(patch: string, color: boolean): string[] {
  const c = palette(color);
  return patch.split('\n').map((line) => {
    if (line.startsWith('--- ')) return c.red(line);
    if (line.startsWith('+++ ')) return c.green(line);
    if (line.startsWith('@@')) return c.cyan(line);
    if (line.startsWith('+')) return c.green(line);
    if (line.startsWith('-')) return c.red(line);
    return line;
  });
}
