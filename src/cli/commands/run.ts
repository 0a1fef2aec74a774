import type { Argv } from 'yargs';
import { UserError } from '../../errors.js';
import type { TaskName } from '../../plan/types.js';
import { TASKS, TASK_NAMES } from '../../../tasks/index.js';
import {
  checkRollingArgs,
  forksOption,
  hostSelectionArgs,
  hostSelectionOptions,
  instanceOption,
  jsonOption,
  lockOptions,
  rollingOptions,
  shardOption,
} from '../options.js';
import { HTML_OPTION } from '../html-option.js';
import { runTasks, type RunTasksArgs } from '../run-tasks.js';

export interface RunArgs extends RunTasksArgs {
  tags?: string[] | undefined;
  skipTags?: string[] | undefined;
}

function parseTags(flag: string, values: readonly string[] | undefined): TaskName[] | undefined {
  if (!values) return undefined;
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!TASK_NAMES.includes(name)) {
      throw new UserError(
        `${flag} ${name}: no such task`,
        undefined,
        `tasks are ${TASK_NAMES.join(', ')}`,
      );
    }
  }
  return names;
}

export function selectedTasks(tags?: string[], skipTags?: string[]): Set<TaskName> {
  const only = parseTags('--tags', tags);
  const skip = new Set(parseTags('--skip-tags', skipTags));
  return new Set(TASK_NAMES.filter((t) => (only ? only.includes(t) : true) && !skip.has(t)));
}

/** Converges (or, with --check, inspects) every selected host. Returns the exit code. */
export async function runCommand(args: RunArgs): Promise<number> {
  checkRollingArgs(args);
  const { tags, skipTags, ...run } = args;
  return runTasks(run, TASKS, selectedTasks(tags, skipTags), {
    resolveSecrets: true,
    command: 'run',
  });
}

export function registerRun(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'run',
    `converge every selected host: ${TASK_NAMES.join(', ')} (hosts in parallel)`,
    (y) =>
      jsonOption(
        lockOptions(
          shardOption(rollingOptions(forksOption(instanceOption(hostSelectionOptions(y))))),
        ),
        'print one JSON report on stdout instead of the human output',
      )
        .option('check', {
          alias: 'C',
          type: 'boolean',
          default: false,
          description: 'read-only: report what would change, change nothing',
        })
        .option('diff', {
          alias: 'D',
          type: 'boolean',
          default: false,
          description:
            'show unified diffs of config.yaml, documents and the unit file; secrets only as (secret changed)',
        })
        .option('tags', {
          alias: 't',
          type: 'string',
          array: true,
          description: `run only these tasks (${TASK_NAMES.join(', ')})`,
        })
        .option('skip-tags', { type: 'string', array: true, description: 'skip these tasks' })
        .option('detailed-exitcode', {
          type: 'boolean',
          default: false,
          description: 'exit 3 when something changed (run) or would change (check)',
        })
        .option('log', {
          type: 'string',
          description: 'append a JSON-lines record of the run to FILE (no secrets)',
        })
        .option('junit', { type: 'string', description: 'also write a JUnit XML report to FILE' })
        .option('html', HTML_OPTION)
        .option('verbose', {
          alias: 'v',
          type: 'count',
          description: 'more detail: -v changes and durations, -vv commands',
        })
        .option('purge-removed-instances', {
          type: 'boolean',
          default: false,
          description:
            'also delete the state directory (sessions, memories) and generations of each instance no longer in the inventory (the plan names each one; default: kept)',
        })
        .option('rollback', {
          type: 'boolean',
          default: true,
          description:
            'put a host back as it was before the run when its health check fails (--no-rollback keeps the failed state)',
        })
        .option('release-from-controller', {
          type: 'boolean',
          default: false,
          description:
            'a release given by url: download it here once and upload it, for hosts with no route to it',
        }),
    async (argv) => {
      setExit(
        await runCommand({
          ...hostSelectionArgs(argv),
          check: argv.check,
          diff: argv.diff,
          tags: argv.tags,
          skipTags: argv['skip-tags'],
          serial: argv.serial,
          maxFailPercentage: argv['max-fail-percentage'],
          detailedExitcode: argv['detailed-exitcode'],
          log: argv.log,
          html: argv.html,
          json: argv.json,
          junit: argv.junit,
          verbose: argv.verbose,
          noRollback: !argv.rollback,
          waitLock: argv['wait-lock'],
          purgeRemovedInstances: argv['purge-removed-instances'],
          releaseFromController: argv['release-from-controller'],
        }),
      );
    },
  );
}
