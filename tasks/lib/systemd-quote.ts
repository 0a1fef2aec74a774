import { PlanError } from '../../src/plan/types.js';

/**
 * Quoting for systemd unit files (systemd.syntax(7), systemd.service(7) "Command lines").
 *
 * systemd splits ExecStart= into words (double or single quotes group, C-style escapes such as
 * `\n`, `\"`, `\\`, `\xNN` are decoded), then expands `%` specifiers in each word, and at exec
 * time substitutes `$VAR` and `${VAR}` in each argument. A lone unquoted `;` separates commands.
 * So a literal argument is written in double quotes with C escapes, `%` doubled and `$` doubled;
 * a word made only of harmless characters is passed unchanged.
 */

const SAFE_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** Characters no argument can carry: argv strings end at NUL. */
function checkNoNul(value: string): void {
  if (value.includes('\0')) throw new PlanError('a NUL byte cannot be written into a systemd unit');
}

/** The body of a double-quoted systemd word: C escapes for `\`, `"` and control characters. */
export function cEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** `%` introduces a specifier (`%h`, `%n`, …) in almost every unit setting; `%%` is a `%`. */
export function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, '%%');
}

/** One ExecStart= argument that systemd hands to the program byte for byte. */
export function systemdQuote(arg: string): string {
  checkNoNul(arg);
  if (SAFE_WORD.test(arg)) return arg;
  return `"${cEscape(escapeSpecifiers(arg)).replace(/\$/g, '$$$$')}"`;
}

/**
 * One Environment= assignment. Environment= splits and unescapes words like ExecStart= and
 * expands specifiers, but never substitutes `$VAR`, so `$` stays as it is here.
 */
export function systemdEnvironment(key: string, value: string): string {
  checkNoNul(value);
  return `Environment="${cEscape(escapeSpecifiers(`${key}=${value}`))}"`;
}
