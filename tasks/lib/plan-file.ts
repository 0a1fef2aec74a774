import { describePathKind, type Attrs, type PathFact } from '../../src/facts/types.js';
import { PlanError } from '../../src/plan/types.js';
import type { Change, FileBody } from '../../src/plan/types.js';
import { fileSecret, fileText } from './facts-access.js';
import type { FileFact } from './facts-access.js';

/** Permission bits only: stat's `%a` may carry setuid/setgid/sticky, which we also manage. */
export function attrsDiffer(current: Attrs, want: Attrs): boolean {
  return (
    (current.mode & 0o7777) !== want.mode ||
    current.user !== want.user ||
    current.group !== want.group
  );
}

/** The fact when it is a regular file, undefined when absent; anything else stops the host. */
export function regularFileOrAbsent(path: string, fact: PathFact): FileFact | undefined {
  if (fact.kind === 'absent') return undefined;
  if (fact.kind === 'file') return fact;
  throw new PlanError(
    `${path} is ${describePathKind(fact)}, not a regular file; move it out of the way and run again`,
  );
}

function sameContent(path: string, fact: FileFact, body: FileBody): boolean {
  if ('text' in body) return fileText(fact, path) === body.text;
  return fileSecret(fact, path).equals(body.secret);
}

export interface FileGoal {
  path: string;
  fact: PathFact;
  body: FileBody;
  attrs: Attrs;
  /**
   * `content`: the file must hold `body` (rewritten when it differs).
   * `existence`: `body` only seeds an absent file; an existing one keeps its content.
   */
  manage: 'content' | 'existence';
}

/** A `file` change when the content must be written, `attrs` when only mode/owner differ. */
export function planFile(goal: FileGoal): Change | undefined {
  const { path, body, attrs } = goal;
  const current = regularFileOrAbsent(path, goal.fact);
  if (!current || (goal.manage === 'content' && !sameContent(path, current, body))) {
    return { kind: 'file', path, body, attrs, before: goal.fact };
  }
  if (attrsDiffer(current, attrs)) return { kind: 'attrs', path, attrs, before: goal.fact };
  return undefined;
}
