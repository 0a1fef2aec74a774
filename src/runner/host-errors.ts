import { ConnectionLostError, UnreachableError } from '../transport/ssh-errors.js';

/** Could not log in, or the connection dropped: the host is unreachable, not broken. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof UnreachableError || error instanceof ConnectionLostError;
}

/** An error's message, or the thrown value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
