import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Argv } from 'yargs';
import { loadInventory } from '../../inventory/load.js';
import { selectHosts } from '../../inventory/limit.js';
import { statusExitCode, statusFactRequests, statusFromRead } from '../../report/status.js';
import { readHost } from '../../runner/read-host.js';
import { openSession, scriptCommandLine } from '../../runner/open-session.js';
import { forksForThisProcess } from '../open-files.js';
import { checkForks, forksOption, hostSelectionOptions } from '../options.js';
import { TASKS } from '../../../tasks/index.js';

export interface StatusArgs {
  inventory: string[];
  limit?: string | undefined;
  extraVars?: string[] | undefined;
  forks: number;
  json: boolean;
}

/**
 * Per host: reachable, the unit's state and since when, the hermes version, and whether the
 * host is in sync with the inventory, by the same read and plan as `run --check`. Read-only,
 * one round trip per host. Returns the exit code (see statusExitCode).
 */
export async function statusCommand(args: StatusArgs): Promise<number> {
  checkForks(args.forks);
  // Secrets are resolved as for a check: .env is in sync only if its values are the inventory's.
  const inventory = await loadInventory(args.inventory, {
    ...(args.extraVars ? { extraVars: args.extraVars } : {}),
    resolveSecrets: true,
  });
  const hosts = selectHosts(inventory, args.limit);
  // One socket per host in flight, as for run: --forks beyond `ulimit -n` is lowered, with a warning.
  const fit = forksForThisProcess(args.forks, hosts.length);
  if (fit.warning !== undefined) process.stderr.write(`${fit.warning}\n`);
  const started = new Date();
  const signal = new AbortController().signal;
  // One listener per host connection: many are expected, not a leak.
  setMaxListeners(0, signal);
  const limit = pLimit(fit.forks);
  const entries = await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        const { read, stats, durationMs } = await readHost(host, TASKS, {
          open: (h) => openSession(h, signal),
          commandLine: scriptCommandLine,
          extraFacts: statusFactRequests(host),
        });
        return statusFromRead(host, read, stats, durationMs);
      }),
    ),
  );
  const exitCode = statusExitCode(entries);
  const { formatStatusTable, toStatusReport } = await import('../../report/status-view.js');
  if (args.json) {
    const report = toStatusReport(entries, {
      checkedAt: started,
      durationMs: Date.now() - started.getTime(),
      exitCode,
    });
    const { refuseSecrets } = await import('../../report/json.js');
    process.stdout.write(`${JSON.stringify(report, refuseSecrets, 2)}\n`);
  } else {
    const color = process.stdout.isTTY && !process.env.NO_COLOR;
    process.stdout.write(formatStatusTable(entries, { color, now: new Date() }));
  }
  return exitCode;
}

export function registerStatus(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'status',
    'per host: reachable, service state and since when, hermes version, config in sync (read-only)',
    (y) =>
      forksOption(hostSelectionOptions(y)).option('json', {
        type: 'boolean',
        default: false,
        description: 'print one JSON document on stdout instead of the table',
      }),
    async (argv) => {
      setExit(
        await statusCommand({
          inventory: argv.inventory,
          limit: argv.limit,
          extraVars: argv['extra-vars'],
          forks: argv.forks,
          json: argv.json,
        }),
      );
    },
  );
}
