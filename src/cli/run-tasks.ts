import { appendFile, writeFile } from 'node:fs/promises';
import type { Task } from '../plan/task.js';
import type { TaskName } from '../plan/types.js';
import { onHosts } from '../runner/fan-out.js';
import { runFleet } from '../runner/run-fleet.js';
import { scriptCommandLine } from '../runner/open-session.js';
import { hostsToContact, type HostSelectionArgs } from '../runner/select-hosts.js';
import type { RunObserver, RunResult } from '../runner/types.js';
import { collectTransportWarnings, printWarning } from './transport-warnings.js';
import { checkRollingArgs } from './options.js';
import { recordContext } from './record-context.js';

/** What a run of a task list is given: the host selection, the run's modes and its reports. */
export interface RunTasksArgs extends HostSelectionArgs {
  check: boolean;
  diff: boolean;
  serial?: string | undefined;
  maxFailPercentage?: number | undefined;
  detailedExitcode: boolean;
  log?: string | undefined;
  json: boolean;
  junit?: string | undefined;
  /** --html FILE: the run as a web page (src/report/html.ts). */
  html?: string | undefined;
  verbose: number;
  /** Keep a failed state instead of rolling it back (for debugging). */
  noRollback?: boolean | undefined;
  /** --wait-lock: seconds to wait for another run holding a host's lock. */
  waitLock?: number | undefined;
}

/**
 * A run of `tasks` on the selected hosts, from the inventory to the exit code: the live view or
 * plain lines, Ctrl-C, the recap and the reports. `run` runs the registry's tasks (TASKS);
 * `restart` and `rollback` run their own lists through here, so their progress, health check,
 * recap and JSON are the run's own. `resolveSecrets: false` for a task list that deploys no
 * secret; `command` names the run in the host's lock.
 */
export async function runTasks(
  args: RunTasksArgs,
  tasks: readonly Task[],
  selected: ReadonlySet<TaskName>,
  options: { resolveSecrets: boolean; command: string },
): Promise<number> {
  const { inventory, hosts, forks } = await hostsToContact(args, options);

  const tty = process.stdout.isTTY && !args.json;
  const color = tty && !process.env.NO_COLOR;
  let observer: RunObserver = {};
  let finishView: () => Promise<void> = () => Promise.resolve();
  if (!args.json) {
    if (tty) {
      const { createLiveView } = await import('../report/live.js');
      const view = createLiveView(
        hosts.map((h) => h.name),
        { verbose: args.verbose, diff: args.diff, color },
      );
      observer = view.observer;
      finishView = () => view.done();
    } else {
      const { createPlainObserver } = await import('../report/plain.js');
      observer = createPlainObserver(process.stdout, { verbose: args.verbose, diff: args.diff });
    }
  }

  // Transport warnings (host key checking off, …) are shown on every run, not only under -v.
  const transportWarnings = collectTransportWarnings(observer);
  observer = transportWarnings.observer;

  const startedAt = new Date();
  const record = recordContext(inventory.files);
  // Ctrl-C: hosts finish the step they are in and start nothing new; a second Ctrl-C exits.
  const result: RunResult = await onHosts(
    { forks, ctrlC: { note: 'interrupted: finishing the steps in flight, starting nothing new' } },
    (fanOut) =>
      runFleet(hosts, tasks, {
        check: args.check,
        selected,
        observer,
        fanOut,
        commandLine: scriptCommandLine,
        ...(args.serial !== undefined ? { serial: args.serial } : {}),
        ...(args.maxFailPercentage !== undefined
          ? { maxFailPercentage: args.maxFailPercentage }
          : {}),
        detailedExitcode: args.detailedExitcode,
        ...(args.noRollback === true ? { noRollback: true } : {}),
        record,
        lock: { who: record.who, command: options.command, waitSeconds: args.waitLock ?? 0 },
      }),
  );
  await finishView();
  if (args.verbose < 1 || args.json) {
    for (const w of transportWarnings.warnings) printWarning(w.host, w.text);
  }
  if (args.verbose >= 2) process.stderr.write(`${statsLine(result)}\n`);

  if (args.json) {
    const { renderJsonReport } = await import('../report/json.js');
    process.stdout.write(`${renderJsonReport(result, { diff: args.diff, startedAt })}\n`);
  } else {
    const { formatRecap } = await import('../report/recap.js');
    process.stdout.write(`${formatRecap(result, color)}\n`);
  }
  if (args.junit !== undefined) {
    const { toJUnitXml } = await import('../report/junit.js');
    await writeFile(args.junit, toJUnitXml(result));
  }
  const context = { command: options.command, who: record.who, inventory: record.inventory };
  if (args.log !== undefined) {
    const { toLogLines } = await import('../report/log.js');
    await appendFile(args.log, toLogLines(result, startedAt, { diff: args.diff, context }));
  }
  if (args.html !== undefined) {
    const { renderRunHtml } = await import('../report/html-run.js');
    await writeFile(args.html, renderRunHtml(result, { diff: args.diff, startedAt, context }));
  }
  return result.exitCode;
}

/**
 * A day-2 command's own task list, run whole (restart, rollback): the rolling flags checked,
 * every task selected, and no secret of the inventory resolved, as such a list deploys none (one
 * missing from the environment must not stop it).
 */
export function runTaskList(
  args: RunTasksArgs,
  tasks: readonly Task[],
  command: string,
): Promise<number> {
  checkRollingArgs(args);
  return runTasks(args, tasks, new Set(tasks.map((task) => task.name)), {
    resolveSecrets: false,
    command,
  });
}

/** -vv: what the run cost, as the transport counted it (the benchmark reads this line). */
export function statsLine(result: RunResult): string {
  const sum = (key: 'roundTrips' | 'channels' | 'connections') =>
    result.hosts.reduce((n, h) => n + h.stats[key], 0);
  const peakRssMB = (process.resourceUsage().maxRSS / 1024).toFixed(1);
  return `stats: hosts=${result.hosts.length} connections=${sum('connections')} roundTrips=${sum('roundTrips')} channels=${sum('channels')} durationMs=${result.durationMs} peakRssMB=${peakRssMB}`;
}
