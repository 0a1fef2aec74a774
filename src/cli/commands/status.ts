import type { Argv } from 'yargs';
import { statusExitCode, statusFactRequests, statusEntries } from '../../report/status.js';
import { onHosts } from '../../runner/fan-out.js';
import { readHost } from '../../runner/read-host.js';
import { scriptCommandLine } from '../../runner/open-session.js';
import { hostsToContact, type HostSelectionArgs } from '../../runner/select-hosts.js';
import {
  forksOption,
  hostSelectionArgs,
  hostSelectionOptions,
  instanceOption,
  jsonOption,
} from '../options.js';
import { TASKS } from '../../../tasks/index.js';

export interface StatusArgs extends HostSelectionArgs {
  json: boolean;
}

/**
 * Per host: reachable, the unit's state and since when, the hermes version, and whether the
 * host is in sync with the inventory, by the same read and plan as `run --check`. Read-only,
 * one round trip per host. Returns the exit code (see statusExitCode).
 */
export async function statusCommand(args: StatusArgs): Promise<number> {
  // Secrets are resolved as for a check: .env is in sync only if its values are the inventory's.
  const { hosts, forks } = await hostsToContact(args, { resolveSecrets: true });
  const started = new Date();
  const entries = await onHosts({ forks }, (fanOut) =>
    fanOut.each(hosts, async (host) => {
      const { read, stats, durationMs } = await readHost(host, TASKS, {
        open: fanOut.open,
        commandLine: scriptCommandLine,
        extraFacts: statusFactRequests(host),
      });
      return statusEntries(host, read, stats, durationMs);
    }),
  ).then((rows) => rows.flat());
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
      jsonOption(
        forksOption(instanceOption(hostSelectionOptions(y))),
        'print one JSON document on stdout instead of the table',
      ),
    async (argv) => {
      setExit(await statusCommand({ ...hostSelectionArgs(argv), json: argv.json }));
    },
  );
}
