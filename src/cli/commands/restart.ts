import type { Argv } from 'yargs';
import { RESTART_TASKS } from '../../../tasks/index.js';
import { day2Args, day2Epilogue, day2Options } from '../day2.js';
import type { HostSelectionArgs } from '../../runner/select-hosts.js';
import { lockOptions, rollingOptions } from '../options.js';
import { HTML_OPTION } from '../html-option.js';
import { runTaskList } from '../run-tasks.js';

export interface RestartArgs extends HostSelectionArgs {
  serial?: string | undefined;
  maxFailPercentage?: number | undefined;
  waitLock?: number | undefined;
  html?: string | undefined;
  json: boolean;
  verbose: number;
}

/**
 * Restarts the gateway on every selected host and checks its health as a run does, rolling with
 * --serial. It is a run of the restart task list (tasks/restart.ts), so progress, the recap,
 * --json, Ctrl-C and the exit codes are the run's own; one round trip per host; no file changes.
 */
export async function restartCommand(args: RestartArgs): Promise<number> {
  return runTaskList(
    { ...args, check: false, diff: false, detailedExitcode: false },
    RESTART_TASKS,
    'restart',
  );
}

export function registerRestart(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'restart',
    "restart the gateway on every selected host with run's health check (rolling with --serial); changes no file",
    (y) =>
      lockOptions(
        rollingOptions(
          day2Options(y, 'print one JSON report on stdout (the run report, task `restart`)'),
        ),
      )
        .option('html', HTML_OPTION)
        .option('verbose', {
          alias: 'v',
          type: 'count',
          description: 'more detail: -v each step, -vv the operations sent',
        })
        .epilogue(
          day2Epilogue(
            "as run's: hosts finish the step they are in, start nothing new, the recap is printed",
          ),
        )
        .example(
          '$0 restart -i hosts.yaml --serial 1',
          'one host at a time; a failed health check stops it',
        ),
    async (argv) => {
      setExit(
        await restartCommand({
          ...day2Args(argv),
          serial: argv.serial,
          maxFailPercentage: argv['max-fail-percentage'],
          waitLock: argv['wait-lock'],
          html: argv.html,
          verbose: argv.verbose,
        }),
      );
    },
  );
}
