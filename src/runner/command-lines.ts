import { commandLine } from '../exec/quote.js';
import type { ServiceAccount } from '../plan/service-access.js';

/**
 * The command lines of the day-2 commands: an argv (the person's, or journalctl's) run on a host
 * as root, as the login, or as the service's account. Every argv word and every inventory value
 * is quoted exactly once, by commandLine; the host's shell turns the line back into that argv and
 * nothing re-splits it: the constant programs below only ever say "$@".
 *
 * Each line starts with `exec`, so the login shell hands its process over and an SSH signal
 * (Ctrl-C) reaches the command, or sudo, which relays it. `sudo -n` never prompts: a sudo that
 * wants a password fails the host at once instead of hanging the fleet.
 */

const SUDO = ['sudo', '-n', '--'];

// Runs "$@" only when this is root: with become off, a login that is not root would otherwise run
// the command as someone else than `--as root` promised. The words are the run's own.
const ONLY_AS_ROOT = [
  'u=$(id -u)',
  'if [ "$u" != 0 ]; then',
  '  echo "hermes-fleet: commands run as uid $u, not root: log in as root, or set ssh.become: sudo" >&2',
  '  exit 126',
  'fi',
  'exec "$@"',
].join('\n');

// $1 is the directory; the rest is the argv.
const IN_DIRECTORY = 'cd -- "$1" || exit 126\nshift\nexec "$@"';

/** argv as the login, through sudo when the host's become says so (logs: read-only). */
export function becomeCommandLine(argv: readonly string[], become: boolean): string {
  return `exec ${commandLine([...(become ? SUDO : []), ...argv])}`;
}

/** argv as root: through sudo, or as a login checked to be root. */
export function rootCommandLine(argv: readonly string[], become: boolean): string {
  return become
    ? becomeCommandLine(argv, true)
    : `exec ${commandLine(['/bin/sh', '-c', ONLY_AS_ROOT, 'hermes-fleet', ...argv])}`;
}

/**
 * argv as the service's account (runuser, which root may use without a password), in its working
 * directory and with its environment, as the service itself would run it.
 */
export function accountCommandLine(
  argv: readonly string[],
  account: ServiceAccount,
  become: boolean,
): string {
  return becomeCommandLine(
    [
      'runuser',
      '-u',
      account.user,
      '--',
      'env',
      ...account.env.map(([name, value]) => `${name}=${value}`),
      '/bin/sh',
      '-c',
      IN_DIRECTORY,
      'hermes-fleet',
      account.cwd,
      ...argv,
    ],
    become,
  );
}
