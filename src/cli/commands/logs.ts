import type { Argv } from 'yargs';
import { UserError } from '../../errors.js';
import { becomeCommandLine } from '../../runner/command-lines.js';
import { logArgv } from '../../runner/log-argv.js';
import { onHosts } from '../../runner/fan-out.js';
import { runCommandOnHosts, type CommandResult } from '../../runner/run-command.js';
import { hostsToContact, type HostSelectionArgs } from '../../runner/select-hosts.js';
import { serviceAccess } from '../../../tasks/index.js';
import { checkOneInstanceEach, day2Args, day2Epilogue, day2Options } from '../day2.js';
import { printWarning } from '../transport-warnings.js';

// After Ctrl-C, a follow whose host ignores the SSH signal is cut off this much later: logs only
// reads, so there is nothing to let finish.
const FOLLOW_GRACE_MS = 2000;

export interface LogsArgs extends HostSelectionArgs {
  lines: number;
  since?: string | undefined;
  follow: boolean;
  json: boolean;
}

/** -n is a whole number of lines, at least 1 (0, -5, 2.5 and NaN are refused before any host). */
export function checkLines(lines: number): void {
  if (!Number.isInteger(lines) || lines < 1) {
    throw new UserError(`-n ${lines}: must be a whole number of lines, at least 1`);
  }
}

/** -f keeps every host's command open at once: --forks must let them all in. */
export function checkFollowForks(forks: number, hosts: number): void {
  if (forks < hosts) {
    throw new UserError(
      `logs -f follows every selected host at once, but ${forks} may run at once and ${hosts} are selected`,
      undefined,
      `raise --forks to ${hosts} (and \`ulimit -n\` with it), or select fewer hosts with -l`,
    );
  }
}

/**
 * The gateway's log from every selected host: its unit's journal (or the container's log in
 * container mode), read through become, `-n` lines per host. Without -f each host's lines are
 * printed together once it answered; with -f every host is followed at once, lines merged as
 * they arrive, until Ctrl-C (exit 130, and nothing said about it). One round trip per host.
 */
export async function logsCommand(args: LogsArgs): Promise<number> {
  checkLines(args.lines);
  const { hosts, forks } = await hostsToContact(args, { resolveSecrets: false });
  checkOneInstanceEach(hosts, 'logs');
  if (args.follow) checkFollowForks(forks, hosts.length);
  const [{ createLinePrinter, printableLine }, { logsProblemLine }, json] = await Promise.all([
    import('../../report/host-lines.js'),
    import('../../report/command-recap.js'),
    import('../../report/command-json.js'),
  ]);
  // A follow never ends in a document: with --json it prints one JSON line per log line.
  const streamJson = args.json && args.follow;
  const printer =
    args.json && !args.follow
      ? undefined
      : createLinePrinter(process.stdout, {
          format: streamJson ? json.jsonLogLine : printableLine,
          group: !args.follow,
        });
  const startedAt = new Date();
  // Ctrl-C is how a follow ends: no note, no error, exit 130.
  return onHosts({ forks, ctrlC: {} }, async (fanOut) => {
    const hostFinished = (result: CommandResult): void => {
      printer?.hostDone(result.host);
      // What ends after Ctrl-C ends because of it.
      if (fanOut.signal.aborted) return;
      if (streamJson) {
        process.stdout.write(json.jsonEndLine(result));
        return;
      }
      if (args.json) return;
      const line = logsProblemLine(result, args.follow);
      if (line !== undefined) process.stderr.write(`${line}\n`);
    };
    const result = await runCommandOnHosts(hosts, {
      fanOut,
      commandLine: (host, become) =>
        becomeCommandLine(
          logArgv(serviceAccess(host).log, {
            lines: args.lines,
            ...(args.since !== undefined ? { since: args.since } : {}),
            follow: args.follow,
          }),
          become,
        ),
      observer: {
        ...(printer ? { output: printer.output } : {}),
        hostFinished,
        warning: printWarning,
      },
      ...(args.follow ? { closeAfterInterruptMs: FOLLOW_GRACE_MS } : {}),
      keepOutput: !args.follow,
    });
    if (args.json && !args.follow) {
      const report = json.toCommandReport(result, 'logs', startedAt);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    }
    return result.exitCode;
  });
}

export function registerLogs(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'logs',
    "the gateway's journal (the container's log in container mode) from every selected host, each line prefixed by its host (read-only)",
    (y) =>
      day2Options(
        y,
        'one JSON document on stdout (per host stdout, stderr, exit code); with -f one JSON line per log line',
        false,
      )
        .option('lines', {
          alias: 'n',
          type: 'number',
          default: 50,
          description: 'the last N lines of each host',
        })
        .option('since', {
          type: 'string',
          requiresArg: true,
          description:
            'only lines since T, as journalctl --since takes it (2h ago, today, 2026-05-02 09:00)',
        })
        .option('follow', {
          alias: 'f',
          type: 'boolean',
          default: false,
          description: 'follow every host at once until Ctrl-C; says when a host drops out',
        })
        .epilogue(
          day2Epilogue(
            'how -f ends: exit 130, nothing else said',
            'Here -f is --follow, as in journalctl -f; --forks has no short form.',
          ),
        )
        .example('$0 logs -i hosts.yaml -l web1 -n 200', '')
        .example("$0 logs -i hosts.yaml --since '10 min ago' -f", ''),
    async (argv) => {
      setExit(
        await logsCommand({
          ...day2Args(argv),
          lines: argv.lines,
          since: argv.since,
          follow: argv.follow,
        }),
      );
    },
  );
}
