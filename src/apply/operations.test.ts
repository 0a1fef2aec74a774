import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS } from '../changes/index.js';
import { APPLY_SH as APPLY_PROGRAM } from './program.js';

/**
 * The operations apply.sh knows: apply_op runs operation NAME as the function op_NAME (dashes as
 * underscores), defined in its ops module.
 */
function operations(program: string): string[] {
  return [...program.matchAll(/^op_([a-z_]+)\(\) \{/gm)].map((m) =>
    (m[1] ?? '').replace(/_/g, '-'),
  );
}

describe('apply.sh', () => {
  it('has one operation per change kind, named after it (and the task marker)', () => {
    // undo and discard are the batch's own, journalled for the rollback (never planned); lock
    // opens every batch (src/runner/host-lock.ts).
    expect(operations(APPLY_PROGRAM).sort()).toEqual(
      [...CHANGE_KINDS, 'task', 'undo', 'discard', 'lock'].sort(),
    );
  });
});
