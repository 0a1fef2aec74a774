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

/**
 * One request or operation line of a host program: `INDEX<TAB>NAME<TAB>key=value<TAB>…`, with
 * named fields (an undefined one is left out), so the program reads each by its name.
 */
export function namedLine(
  index: number,
  name: string,
  fields: Readonly<Record<string, string | number | undefined>>,
  protocol: string,
): string {
  const parts = [String(index), lineField(name, protocol)];
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) parts.push(`${key}=${lineField(String(value), protocol)}`);
  }
  return `${parts.join('\t')}\n`;
}
