import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS } from '../apply/change-kinds.js';
import APPLY_PROGRAM from './apply.sh';

/** The labels of apply.sh's `case $op in` (apply_op): the operations it knows. */
function operations(program: string): string[] {
  const body = /apply_op\(\) \{\n {2}case \$op in\n([\s\S]*?)\n {2}esac/.exec(program)?.[1] ?? '';
  return [...body.matchAll(/^ {2}([a-z-]+)\)/gm)].map((m) => m[1] ?? '');
}

describe('apply.sh', () => {
  it('has one operation per change kind, named after it (and the task marker)', () => {
    // undo and discard are the batch's own, journalled for the rollback (never planned).
    expect(operations(APPLY_PROGRAM).sort()).toEqual(
      [...CHANGE_KINDS, 'task', 'undo', 'discard'].sort(),
    );
  });
});
