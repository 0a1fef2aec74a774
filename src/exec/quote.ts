import { InternalError } from '../errors.js';

// Characters no POSIX shell treats specially anywhere in a word, so such words need no quoting
// (zx's rule; `~` is left out because a leading one is expanded to a home directory).
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
// `NAME=value` as the first word of a command is an assignment, not the command to run.
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * Quotes one argument for a POSIX shell (sh, dash, bash, zsh), which is what sshd hands a
 * command to. Safe words pass unchanged so commands stay readable in -vv output and logs.
 */
export function quote(arg: string): string {
  if (arg.includes('\0')) {
    // A shell argument is a C string: a NUL would silently cut it short on the remote side.
    throw new InternalError('cannot pass a NUL byte in a shell argument');
  }
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins argv into one shell command line that runs exactly argv, with no expansion. */
export function commandLine(argv: readonly string[]): string {
  return argv
    .map((arg, index) => {
      const quoted = quote(arg);
      return index === 0 && quoted === arg && ASSIGNMENT.test(arg) ? `'${arg}'` : quoted;
    })
    .join(' ');
}
