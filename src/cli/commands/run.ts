import { appendFile, writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { UserError } from '../../errors.js';
import { loadInventory } from '../../inventory/load.js';
import { selectHosts } from '../../inventory/limit.js';
import type { Task } from '../../plan/task.js';
import type { TaskName } from '../../plan/types.js';
import { TASKS, TASK_NAMES } from '../../../tasks/index.js';
import { runFleet } from '../../runner/run-fleet.js';
import { openSession, scriptCommandLine } from '../../runner/open-session.js';
import { selectShard } from '../../runner/shard.js';
import type { RunObserver, RunResult } from '../../runner/types.js';
import { collectTransportWarnings } from '../transport-warnings.js';
import { forksForThisProcess } from '../open-files.js';
import { onCtrlC } from '../ctrl-c.js';
import { recordContext } from '../record-context.js';
import { HTML_OPTION } from '../html-option.js';
import {
  checkForks,
  checkMaxFailPercentage,
  checkSerial,
  checkWaitLock,
  forksOption,
  hostSelectionOptions,
  jsonOption,
  lockOptions,
  rollingOptions,
  shardOption,
} from '../options.js';

export interface RunArgs {
  inventory: string[];
  limit?: string | undefined;
  extraVars?: string[] | undefined;
  check: boolean;
  diff: boolean;
  forks: number;
  tags?: string[] | undefined;
  skipTags?: string[] | undefined;
  serial?: string | undefined;
  maxFailPercentage?: number | undefined;
  detailedExitcode: boolean;
  shard?: string | undefined;
  log?: string | undefined;
  /** --html FILE: the run as a web page (src/report/html.ts). */
  html?: string | undefined;
  json: boolean;
  junit?: string | undefined;
  verbose: number;
  /** Keep a failed state instead of rolling it back (for debugging). */
  noRollback?: boolean | undefined;
  /** --wait-lock: seconds to wait for another run holding a host's lock. */
  waitLock?: number | undefined;
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
  checkSerial(args.serial);
  checkForks(args.forks);
  checkMaxFailPercentage(args.maxFailPercentage);
  checkWaitLock(args.waitLock);
  const selected = selectedTasks(args.tags, args.skipTags);
  return runTasks(args, TASKS, selected, { resolveSecrets: true, command: 'run' });
}

/**
 * A run of `tasks` on the selected hosts, from the inventory to the exit code: the live view or
 * plain lines, Ctrl-C, the recap and the reports. `run` runs the six tasks; `restart` runs its
 * own list through here, so its progress, health check, recap and JSON are the run's own.
 * `resolveSecrets: false` for a task list that deploys no secret.
 */
export async function runTasks(
  args: Omit<RunArgs, 'tags' | 'skipTags'>,
  tasks: readonly Task[],
  selected: ReadonlySet<TaskName>,
  options: { resolveSecrets: boolean; command: string },
): Promise<number> {
  const inventory = await loadInventory(args.inventory, {
    ...(args.extraVars ? { extraVars: args.extraVars } : {}),
    resolveSecrets: options.resolveSecrets,
  });
  let hosts = selectHosts(inventory, args.limit);
  if (args.shard !== undefined) hosts = selectShard(hosts, args.shard);
  // One socket per host in flight: --forks beyond what `ulimit -n` allows is lowered, with a
  // warning, before any host is contacted (README, "## SSH").
  const fit = forksForThisProcess(args.forks, hosts.length);
  if (fit.warning !== undefined) process.stderr.write(`${fit.warning}\n`);

  const tty = process.stdout.isTTY && !args.json;
  const color = tty && !process.env.NO_COLOR;
  let observer: RunObserver = {};
  let finishView: () => Promise<void> = () => Promise.resolve();
  if (!args.json) {
    if (tty) {
      const { createLiveView } = await import('../../report/live.js');
      const view = createLiveView(
        hosts.map((h) => h.name),
        { verbose: args.verbose, diff: args.diff, color },
      );
      observer = view.observer;
      finishView = () => view.done();
    } else {
      const { createPlainObserver } = await import('../../report/plain.js');
      observer = createPlainObserver(process.stdout, { verbose: args.verbose, diff: args.diff });
    }
  }

  // Transport warnings (host key checking off, …) are shown on every run, not only under -v.
  const transportWarnings = collectTransportWarnings(observer);
  observer = transportWarnings.observer;

  // Ctrl-C: hosts finish the step they are in and start nothing new; a second Ctrl-C exits.
  const ctrlC = onCtrlC('interrupted: finishing the steps in flight, starting nothing new');
  const startedAt = new Date();
  const record = recordContext(inventory.files);
  let result: RunResult;
  try {
    result = await runFleet(hosts, tasks, {
      check: args.check,
      selected,
      observer,
      signal: ctrlC.signal,
      open: (host) => openSession(host, ctrlC.signal),
      commandLine: scriptCommandLine,
      forks: fit.forks,
      ...(args.serial !== undefined ? { serial: args.serial } : {}),
      ...(args.maxFailPercentage !== undefined
        ? { maxFailPercentage: args.maxFailPercentage }
        : {}),
      detailedExitcode: args.detailedExitcode,
      ...(args.noRollback === true ? { noRollback: true } : {}),
      record,
      lock: { who: record.who, command: options.command, waitSeconds: args.waitLock ?? 0 },
    });
  } finally {
    ctrlC.dispose();
  }
  await finishView();
  if (args.verbose < 1 || args.json) {
    for (const w of transportWarnings.warnings)
      process.stderr.write(`warning: ${w.host}: ${w.text}\n`);
  }
  if (args.verbose >= 2) process.stderr.write(`${statsLine(result)}\n`);

  if (args.json) {
    const { renderJsonReport } = await import('../../report/json.js');
    process.stdout.write(`${renderJsonReport(result, { diff: args.diff, startedAt })}\n`);
  } else {
    const { formatRecap } = await import('../../report/recap.js');
    process.stdout.write(`${formatRecap(result, color)}\n`);
  }
  if (args.junit !== undefined) {
    const { toJUnitXml } = await import('../../report/junit.js');
    await writeFile(args.junit, toJUnitXml(result));
  }
  const context = { command: options.command, who: record.who, inventory: record.inventory };
  if (args.log !== undefined) {
    const { toLogLines } = await import('../../report/log.js');
    await appendFile(args.log, toLogLines(result, startedAt, { diff: args.diff, context }));
  }
  if (args.html !== undefined) {
    const { renderRunHtml } = await import('../../report/html-run.js');
    await writeFile(args.html, renderRunHtml(result, { diff: args.diff, startedAt, context }));
  }
  return result.exitCode;
}

/** -vv: what the run cost, as the transport counted it (the benchmark reads this line). */
export function statsLine(result: RunResult): string {
  const sum = (key: 'roundTrips' | 'channels' | 'connections') =>
    result.hosts.reduce((n, h) => n + h.stats[key], 0);
  const peakRssMB = (process.resourceUsage().maxRSS / 1024).toFixed(1);
  return `stats: hosts=${result.hosts.length} connections=${sum('connections')} roundTrips=${sum('roundTrips')} channels=${sum('channels')} durationMs=${result.durationMs} peakRssMB=${peakRssMB}`;
}

export function registerRun(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'run',
    `converge every selected host: ${TASK_NAMES.join(', ')} (hosts in parallel)`,
    (y) =>
      jsonOption(
        lockOptions(shardOption(rollingOptions(forksOption(hostSelectionOptions(y))))),
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
        .option('rollback', {
          type: 'boolean',
          default: true,
          description:
            'put a host back as it was before the run when its health check fails (--no-rollback keeps the failed state)',
        }),
    async (argv) => {
      setExit(
        await runCommand({
          inventory: argv.inventory,
          limit: argv.limit,
          extraVars: argv['extra-vars'],
          check: argv.check,
          diff: argv.diff,
          forks: argv.forks,
          tags: argv.tags,
          skipTags: argv['skip-tags'],
          serial: argv.serial,
          maxFailPercentage: argv['max-fail-percentage'],
          detailedExitcode: argv['detailed-exitcode'],
          shard: argv.shard,
          log: argv.log,
          html: argv.html,
          json: argv.json,
          junit: argv.junit,
          verbose: argv.verbose,
          noRollback: !argv.rollback,
          waitLock: argv['wait-lock'],
        }),
      );
    },
  );
}
