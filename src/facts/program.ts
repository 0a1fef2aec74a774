/**
 * read.sh, the host side of the batched fact read, as one constant program: the shared field
 * parser, the answers about paths, then read.sh itself (its state and its loops), joined in this
 * fixed order.
 */
import LINE_FIELD from '../exec/line-field.sh';
import READ_PATHS from './read-paths.sh';
import READ from './read.sh';

export const READ_PARTS = [LINE_FIELD, READ_PATHS, READ] as const;

/** The joined program, comments and all (compactProgram strips them before it is sent). */
export const READ_SH = READ_PARTS.join('');
