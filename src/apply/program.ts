/**
 * apply.sh, the host side of the batched apply, as one constant program: its parts (src/apply/lib,
 * src/apply/ops and the shared field parser) joined in this fixed order. Each part opens with
 * what it owns and what it offers the others; the order only matters for the first (the
 * program's state) and the last two (the child's entry and the loop over the operations).
 */
import LINE_FIELD from '../exec/line-field.sh';
import ACTORS from './lib/actors.sh';
import BATCH from './lib/batch.sh';
import JOURNAL from './lib/journal.sh';
import MAIN from './lib/main.sh';
import PIN from './lib/pin.sh';
import ACCOUNTS from './ops/accounts.sh';
import CONTAINER from './ops/container.sh';
import FILES from './ops/files.sh';
import GENERATIONS from './ops/generations.sh';
import LOCK from './ops/lock.sh';
import RELEASE from './ops/release.sh';
import ROLLBACK from './ops/rollback.sh';
import SERVICE from './ops/service.sh';
import UNLOCK from './unlock.sh';

export const APPLY_PARTS = [
  BATCH,
  LINE_FIELD,
  PIN,
  JOURNAL,
  FILES,
  ACCOUNTS,
  RELEASE,
  CONTAINER,
  SERVICE,
  GENERATIONS,
  LOCK,
  ROLLBACK,
  ACTORS,
  MAIN,
] as const;

/** The joined program, comments and all (compactProgram strips them before it is sent). */
export const APPLY_SH = APPLY_PARTS.join('');

/** unlock.sh (`hermes-fleet unlock`), after the shared field parser it calls. */
export const UNLOCK_PARTS = [LINE_FIELD, UNLOCK] as const;
export const UNLOCK_SH = UNLOCK_PARTS.join('');
