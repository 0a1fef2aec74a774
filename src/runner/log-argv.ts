import type { ServiceLog } from '../plan/service-access.js';

export interface LogSelection {
  /** The last N lines (journalctl -n, docker/podman logs --tail). */
  lines: number;
  /** Passed on as it is: journalctl's `--since` syntax, or the container runtime's. */
  since?: string;
  follow: boolean;
}

/**
 * The program that prints a service's log: `journalctl` for the unit (`--system`: a login that
 * may read only its own user journal fails with journalctl's permission message instead of
 * printing nothing), or the container runtime's `logs`. Options carry their value in the same
 * word (`--since=…`), so a value that starts with `-` is never taken for an option.
 */
export function logArgv(log: ServiceLog, selection: LogSelection): string[] {
  const since = selection.since === undefined ? [] : [`--since=${selection.since}`];
  const follow = selection.follow ? ['--follow'] : [];
  switch (log.kind) {
    case 'journal':
      return [
        'journalctl',
        '--system',
        `--unit=${log.unit}`,
        '--no-pager',
        '--output=short-iso',
        `--lines=${selection.lines}`,
        ...since,
        ...follow,
      ];
    case 'container':
      return [log.backend, 'logs', `--tail=${selection.lines}`, ...since, ...follow, log.name];
  }
}
