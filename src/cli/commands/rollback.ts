import type { Argv } from 'yargs';
import { rollbackTasks } from '../../../tasks/index.js';
import { day2Args, day2Options } from '../day2.js';
import type { HostSelectionArgs } from '../../runner/select-hosts.js';
import { lockOptions, rollingOptions } from '../options.js';
import { HTML_OPTION } from '../html-option.js';
import { runTaskList } from '../run-tasks.js';

export interface RollbackArgs extends HostSelectionArgs {
  to?: number | undefined;
  check: boolean;
  serial?: string | undefined;
  maxFailPercentage?: number | undefined;
  waitLock?: number | undefined;
  html?: string | undefined;
  json: boolean;
  verbose: number;
}

/**
 * Puts every selected host back on generation N (default: the one before its current one), with
 * the run's atomic writes, restart and health check (a failure puts back the state before the
 * rollback), and records the result as a new generation. A run of the rollback task list, so
 * progress, --check, --serial, the reports and the exit codes are the run's own.
 */
export async function rollbackCommand(args: RollbackArgs): Promise<number> {
  // The files come from the host's own generation: no secret of the inventory is deployed.
  return runTaskList(
    { ...args, diff: false, detailedExitcode: false },
    rollbackTasks(args.to),
    'rollback',
  );
}

export function registerRollback(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'rollback',
    'put each selected host back on an earlier generation (default: the one before its current), restart, health-check, record it',
    (y) =>
      lockOptions(
        rollingOptions(
          day2Options(y, 'print one JSON report on stdout (the run report, task `rollback`)'),
        ),
      )
        .option('to', {
          type: 'number',
          description: 'the generation to go back to (see hermes-fleet generations)',
        })
        .option('check', {
          alias: 'C',
          type: 'boolean',
          default: false,
          description: 'read-only: report what would be done, change nothing',
        })
        .option('html', HTML_OPTION)
        .option('verbose', {
          alias: 'v',
          type: 'count',
          description: 'more detail: -v each step, -vv the operations sent',
        })
        .check((argv) => {
          if (argv.to !== undefined && (!Number.isInteger(argv.to) || argv.to < 1)) {
            throw new Error(`--to ${argv.to}: a generation is a whole number from 1`);
          }
          return true;
        }),
    async (argv) => {
      setExit(
        await rollbackCommand({
          ...day2Args(argv),
          to: argv.to,
          check: argv.check,
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
