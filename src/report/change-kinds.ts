import { recordOf, type Change } from '../changes/index.js';
import { oneLine } from '../text.js';

/* What the text views say of a change, from its record (src/changes). */

/**
 * One short line saying what a change does, for people: `create directory /var/lib/hermes
 * (0750 hermes:hermes)`. Never shows file contents, so a secret body cannot appear here.
 */
export function describeChange(change: Change): string {
  return oneLine(recordOf(change).describe(change));
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
  const where = oneLine(`${host}:${'path' in change ? change.path : ''}`);
  const lines = recordOf(change).diff(change, { host, where, color: options.color });
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** The `--diff` blocks of a task's changes, in order (changes with nothing to show give none). */
export function renderTaskDiffs(
  host: string,
  changes: readonly Change[],
  options: { color: boolean },
): string[] {
  return changes.flatMap((change) => renderChangeDiff(host, change, options) ?? []);
}
