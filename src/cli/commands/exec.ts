import type { Argv } from 'yargs';
import { InternalError, UserError } from '../../errors.js';
import { accountCommandLine, rootCommandLine } from '../../runner/command-lines.js';
import { onHosts } from '../../runner/fan-out.js';
import { runCommandOnHosts } from '../../runner/run-command.js';
import { hostsToContact, type HostSelectionArgs } from '../../runner/select-hosts.js';
import { serviceAccess } from '../../../tasks/index.js';
import { checkOneInstanceEach, day2Args, day2Epilogue, day2Options } from '../day2.js';
import { printWarning } from '../transport-warnings.js';

export const EXEC_USAGE =
  'usage: hermes-fleet exec -i FILE [-l PATTERN] [--as root|service] [--group] -- CMD [ARG...]';

export interface ExecArgs extends HostSelectionArgs {
  as: 'root' | 'service';
  group: boolean;
  json: boolean;
  /** Everything after `--`, word for word. */
  command: readonly unknown[] | undefined;
}

/**
 * The command to run, as the words after `--`. They must be there (exit 1 with the usage line),
 * and strings: the parser is told to leave them alone (no numbers, no options), and this says
 * so should it ever not.
 */
export function commandArgv(words: readonly unknown[] | undefined): string[] {
  if (words === undefined || words.length === 0) {
    throw new UserError(`exec: no command given: it and its arguments follow --\n${EXEC_USAGE}`);
  }
  return words.map((word) => {
    if (typeof word !== 'string')
      throw new InternalError(`exec argument ${String(word)} is not a string`);
    return word;
  });
}

/**
 * Runs one command on every selected host, like `ansible -a`: as root through become, or as the
 * service account in its working directory with its environment. One connection and one round
 * trip per host. Returns the exit code: 0 when every host's command exited 0, else run's codes.
 */
export async function execCommand(args: ExecArgs): Promise<number> {
  const argv = commandArgv(args.command);
  const { hosts, forks } = await hostsToContact(args, { resolveSecrets: false });
  if (args.as === 'service') checkOneInstanceEach(hosts, 'exec --as service');
  const [{ createLinePrinter, rawLine }, { formatCommandRecap }, { toCommandReport }] =
    await Promise.all([
      import('../../report/host-lines.js'),
      import('../../report/command-recap.js'),
      import('../../report/command-json.js'),
    ]);
  const printer = args.json
    ? undefined
    : createLinePrinter(process.stdout, { format: rawLine, group: args.group });
  const startedAt = new Date();
  const result = await onHosts(
    {
      forks,
      ctrlC: { note: 'interrupted: the commands in flight were sent Ctrl-C, starting no other' },
    },
    (fanOut) =>
      runCommandOnHosts(hosts, {
        fanOut,
        commandLine: (host, become) =>
          args.as === 'service'
            ? accountCommandLine(argv, serviceAccess(host).account, become)
            : rootCommandLine(argv, become),
        observer: {
          ...(printer ? { output: printer.output } : {}),
          hostFinished: (r) => printer?.hostDone(r.host),
          warning: printWarning,
        },
        keepOutput: true,
      }),
  );
  if (args.json) {
    const report = toCommandReport(result, 'exec', startedAt);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const color = process.stdout.isTTY && !process.env.NO_COLOR;
    process.stdout.write(formatCommandRecap(result, color));
  }
  return result.exitCode;
}

export function registerExec(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'exec',
    'run a command on every selected host (as root through become, or --as service); each line prefixed by its host, then a recap of exit statuses',
    (y) =>
      day2Options(
        y
          // The words after `--` are the command, kept whole: not parsed as numbers or options.
          .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
          .usage(
            `${EXEC_USAGE}\n\nRuns CMD with its arguments, kept word for word, on every selected host. Each line of output is prefixed by its host ([web1] ; stderr: [web1] ! ), in arrival order; then a recap with each host's exit status. A non-zero exit fails the host.`,
          )
          .epilogue(
            day2Epilogue(
              'each command in flight is sent SIGINT (sshd passes it on for logins other than root), no other host is started, the recap is printed',
            ),
          ),
        'print one JSON document on stdout: per host stdout, stderr, exit code, duration',
      )
        .option('as', {
          choices: ['root', 'service'] as const,
          default: 'root' as const,
          description:
            'root: through become (sudo -n); service: as the hermes user, in workingDirectory, with HERMES_HOME and the unit environment',
        })
        .option('group', {
          type: 'boolean',
          default: false,
          description: "print each host's output as one block when it finishes",
        })
        .example('$0 exec -i hosts.yaml -- systemctl is-active hermes-agent', '')
        .example('$0 exec -i hosts.yaml -l web1 --as service -- hermes doctor', ''),
    async (argv) => {
      setExit(
        await execCommand({
          ...day2Args(argv),
          as: argv.as,
          group: argv.group,
          command: argv['--'] as unknown[] | undefined,
        }),
      );
    },
  );
}
