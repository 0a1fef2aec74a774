import { InternalError } from '../errors.js';

/**
 * A field of the batch scripts' line protocol (tab-separated lines on stdin). The inventory
 * schema keeps tabs, newlines and NULs out of every value that becomes one, so meeting one here
 * is a bug, not a user mistake.
 */
export function lineField(value: string, protocol: string): string {
  if (/[\t\n\r\0]/.test(value)) {
    throw new InternalError(
      `${protocol} field holds a tab, newline or NUL: ${JSON.stringify(value)}`,
    );
  }
  return value;
}
