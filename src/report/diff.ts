import { createTwoFilesPatch } from 'diff';
import type { PathFact } from '../facts/types.js';
import type { Change } from '../plan/types.js';
import { attrDelta, describeChange, type AttrDelta } from './describe.js';
import { compareSecretKeys, type SecretKeyChanges } from './secret-keys.js';
import { oneLine, palette, printable } from './text.js';

export type FileChange = Extract<Change, { kind: 'file' }>;

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

/** The mode/owner difference of a change, against the path as it was read. */
export function changeAttrDelta(change: Change): AttrDelta {
  switch (change.kind) {
    case 'attrs':
      return attrDelta(change.before, change.attrs);
    case 'file':
      return change.before.kind === 'file' ? attrDelta(change.before, change.attrs) : {};
    case 'dir':
      return change.before.kind === 'dir' ? attrDelta(change.before, change.attrs) : {};
    default:
      return {};
  }
}

/**
 * What `--diff` shows for one change: a unified diff of a text file, one line per mode or
 * owner change, and for a secret file only the names of the keys that were added, removed or
 * changed. Undefined when there is nothing to show. Never a secret value.
 */
export function renderChangeDiff(
  host: string,
  change: Change,
  options: { color: boolean },
): string | undefined {
  const c = palette(options.color);
  const lines: string[] = [];
  const where = oneLine(`${host}:${'path' in change ? change.path : ''}`);
  const delta = changeAttrDelta(change);
  if (delta.mode) lines.push(c.cyan(`${where}: mode ${delta.mode.before} → ${delta.mode.after}`));
  if (delta.owner) {
    lines.push(c.cyan(`${where}: owner ${delta.owner.before} → ${delta.owner.after}`));
  }
  // A release has no text to diff: what moves is said in one line.
  if (change.kind === 'release-unpack' || change.kind === 'release-switch') {
    lines.push(c.cyan(`${where}: ${describeChange(change)}`));
  }
  if (change.kind === 'remove' && change.why !== undefined) {
    lines.push(c.red(`${where}: removed (${change.why})`));
  }
  if (change.kind === 'file') {
    // Each key the inventory no longer has comes first; a secret file's show in its key list.
    if (!isSecretFile(change)) {
      for (const forgotten of change.forgets ?? []) {
        lines.push(c.red(`- ${forgotten.key} (no longer in the inventory)`));
      }
    }
    const secret = secretDiff(change);
    if (secret) lines.push(...secretLines(host, change, secret, options.color));
    else {
      const patch = textPatch(host, change);
      if (patch !== undefined) lines.push(...colourPatch(patch, options.color));
      else if ('text' in change.body && previousContent(change.before) === undefined) {
        lines.push(`${where}: content replaced (its previous content was not read)`);
      }
    }
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
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

/** The `--diff` blocks of a task's changes, in order (changes with nothing to show give none). */
export function renderTaskDiffs(
  host: string,
  changes: readonly Change[],
  options: { color: boolean },
): string[] {
  return changes.flatMap((change) => renderChangeDiff(host, change, options) ?? []);
}
