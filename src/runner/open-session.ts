import type { HostSpec } from '../inventory/types.js';
import { connect } from '../transport/connection.js';
import { quote } from '../exec/quote.js';
import { resolveSshTarget } from '../transport/ssh-target.js';
import type { HostSession } from './run-host.js';

/** Resolves the host's SSH target (inventory, then ~/.ssh/config, then defaults) and logs in. */
export async function openSession(
  host: HostSpec,
  signal: AbortSignal,
): Promise<{ session: HostSession; become: boolean }> {
  const target = await resolveSshTarget(host.name, host.ssh);
  const connection = await connect(target, { signal });
  return {
    session: {
      exec: (command, request) => connection.exec(command, request),
      stats: connection.stats,
      // Already holds the target's own warnings (ssh config, ProxyCommand) and the bastions'.
      warnings: connection.warnings,
      close: () => {
        connection.close();
      },
    },
    become: target.become === 'sudo',
  };
}

/**
 * The command line that runs one of hermes-fleet's constant host programs as root: `sudo -n`
 * never prompts (a password prompt would hang a fleet run), so a sudo that wants one fails fast.
 * `exec` replaces the login shell (dash does not do that by itself), so an SSH signal (Ctrl-C)
 * reaches sudo, which relays it, or the program itself. The program gets its own text as $1:
 * what it does as the service account, it does in a child running that same text.
 */
export function scriptCommandLine(script: string, become: boolean): string {
  const program = quote(script);
  return `exec ${become ? 'sudo -n ' : ''}/bin/sh -c ${program} hermes-fleet ${program}`;
}
