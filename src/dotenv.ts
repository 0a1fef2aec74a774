/**
 * `.env` lines that hermes's loader (python-dotenv's dotenv_values) reads back byte-for-byte.
 *
 * Verified against Debian's python3-dotenv 0.21: a single-quoted value decodes only `\\` and
 * `\'`; a double-quoted value decodes `\\ \' \" \a \b \f \n \r \t \v`; both quoted forms expand
 * `${NAME}` and `${NAME:-default}` with no way to escape it. So: single quotes when the value has
 * no quote, backslash or line break; double quotes with escapes otherwise; and a value holding
 * a `${…}` reference (or a NUL) is refused, because no spelling reads back unchanged.
 */

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INTERPOLATION = /\$\{[^}:]*(?::-[^}]*)?\}/;

/** Why `value` cannot be written for `key`, or undefined when it can. */
export function dotenvProblem(key: string, value: string): string | undefined {
  if (!KEY.test(key)) {
    return `"${key}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`;
  }
  if (value.includes('\0')) return 'the value contains a NUL byte, which a .env file cannot hold';
  if (INTERPOLATION.test(value)) {
    return 'the value contains a ${…} reference, which hermes (python-dotenv) would expand: it cannot be written so that it reads back unchanged';
  }
  return undefined;
}

/** One `KEY=value` line (without the newline). Throws when dotenvProblem says no. */
export function encodeDotenvLine(key: string, value: string): string {
  const problem = dotenvProblem(key, value);
  if (problem) throw new Error(`${key}: ${problem}`);
  if (!/['\\\r\n]/.test(value)) return `${key}='${value}'`;
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
  return `${key}="${escaped}"`;
}

/**
 * Key → raw value text of each assignment, later lines winning, for diffs by key. Not a full
 * dotenv parser: it only needs to tell which keys were added, removed or changed.
 */
export function dotenvKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\s*export\s+/, '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    keys.set(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return keys;
}
