import { ConnectionLostError, UnreachableError } from '../transport/ssh-errors.js';

/** Could not log in, or the connection dropped: the host is unreachable, not broken. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof UnreachableError || error instanceof ConnectionLostError;
}
