import { applyOps } from '../apply/apply.js';
import { opSummary, planOps } from '../apply/encode-ops.js';
import type { HostSpec } from '../inventory/types.js';
import type { TaskName, TaskPlan } from '../plan/types.js';
import type { Executor } from '../exec/executor.js';
import type { Task } from '../plan/task.js';
import { errorMessage, isUnreachable } from './host-errors.js';
import { readAndPlan } from './read-and-plan.js';
import {
  noTraffic,
  type HostResult,
  type RunObserver,
  type TaskResult,
  type TransportStats,
} from './types.js';

/** What the host runner needs from a connection: the executor, its counters, and close. */
export interface HostSession extends Executor {
  readonly stats: TransportStats;
  readonly warnings: readonly string[];
  close(): void;
}

export interface HostRunOptions {
  check: boolean;
  /** Tasks not selected by --tags/--skip-tags report `skipped` and plan nothing. */
  selected: ReadonlySet<TaskName>;
  observer: RunObserver;
  /** Aborted on Ctrl-C: a host that has not started applying does not start. */
  signal: AbortSignal;
  /** Opens the host's connection; rejects with UnreachableError when it cannot. */
  open: (host: HostSpec) => Promise<{ session: HostSession; become: boolean }>;
  /** Wraps a script in the command line that runs it as root on the host. */
  commandLine: (script: string, become: boolean) => string;
  /** Seconds the apply batch may take, beyond the health checks' own waits. */
  applyTimeoutMs?: number;
}

/**
 * One host: connect, read every fact in one round trip, plan every task (pure), and — unless
 * this is a check — apply the whole plan in one more round trip. Check mode is exactly this
 * minus the apply call, so it reports what a real run would do.
 */
export async function runHost(
  host: HostSpec,
  tasks: readonly Task[],
  options: HostRunOptions,
): Promise<HostResult> {
  const started = Date.now();
  const { observer } = options;
  observer.hostStarted?.(host.name);
  const finish = (result: Omit<HostResult, 'host' | 'durationMs'>): HostResult => {
    const full: HostResult = { host: host.name, durationMs: Date.now() - started, ...result };
    observer.hostFinished?.(full);
    return full;
  };
  const skippedAll = (why: string): TaskResult[] =>
    tasks.map((t) => ({
      task: t.name,
      status: 'skipped',
      durationMs: 0,
      changes: [],
      message: why,
    }));

  if (options.signal.aborted) {
    return finish({ status: 'skipped', tasks: skippedAll('interrupted'), stats: noTraffic() });
  }

  observer.hostPhase?.(host.name, 'connecting');
  let opened: { session: HostSession; become: boolean };
  try {
    opened = await options.open(host);
  } catch (error) {
    return finish({
      status: isUnreachable(error) ? 'unreachable' : 'failed',
      tasks: [],
      message: errorMessage(error),
      stats: noTraffic(),
    });
  }
  const { session, become } = opened;
  for (const warning of session.warnings) observer.detail?.(host.name, 1, warning);
  const commandLine = (script: string) => options.commandLine(script, become);
  try {
    return await converge();
  } finally {
    session.close();
  }

  async function converge(): Promise<HostResult> {
    observer.hostPhase?.(host.name, 'reading facts');
    const readStarted = Date.now();
    const read = await readAndPlan(session, host, tasks, {
      selected: options.selected,
      commandLine,
    });
    observer.detail?.(
      host.name,
      1,
      `read the host's state: 1 round trip, ${Date.now() - readStarted} ms`,
    );
    if (!read.ok) {
      for (const r of read.tasks) observer.taskFinished?.(host.name, r);
      return finish({
        status: read.status,
        tasks: read.tasks,
        ...(read.failedTask !== undefined ? { failedTask: read.failedTask } : {}),
        message: read.message,
        stats: session.stats,
      });
    }
    const { plans } = read;

    const resultOf = (plan: TaskPlan, durationMs: number): TaskResult =>
      options.selected.has(plan.task)
        ? {
            task: plan.task,
            status: plan.changes.length > 0 ? 'changed' : 'ok',
            durationMs,
            changes: plan.changes,
          }
        : {
            task: plan.task,
            status: 'skipped',
            durationMs: 0,
            changes: [],
            message: 'not selected by tags',
          };

    const ops = planOps(plans);
    if (options.check || ops.length === 0) {
      const results = plans.map((p) => resultOf(p, 0));
      for (const r of results) observer.taskFinished?.(host.name, r);
      return finish({ status: hostStatus(results), tasks: results, stats: session.stats });
    }
    if (options.signal.aborted) {
      return finish({
        status: 'skipped',
        tasks: skippedAll('interrupted before applying'),
        stats: session.stats,
      });
    }

    observer.hostPhase?.(host.name, 'applying');
    for (const op of ops) if (op.change) observer.detail?.(host.name, 2, opSummary(op));
    const lastOpOf = new Map<TaskName, number>();
    ops.forEach((op, i) => lastOpOf.set(op.task, i));
    const results = new Map<TaskName, TaskResult>();
    let clock = Date.now();
    const settle = (plan: TaskPlan) => {
      const now = Date.now();
      const result = resultOf(plan, now - clock);
      clock = now;
      results.set(plan.task, result);
      observer.taskFinished?.(host.name, result);
    };
    // Tasks with nothing to do settle as soon as the batch reaches them.
    let next = 0;
    const advance = (doneThrough: number) => {
      while (next < plans.length) {
        const plan = plans[next];
        if (!plan) break;
        const last = lastOpOf.get(plan.task);
        if (last !== undefined && last > doneThrough) {
          observer.taskStarted?.(host.name, plan.task);
          break;
        }
        settle(plan);
        next++;
      }
    };
    advance(-1);
    let changesDone = 0;
    let outcome: {
      failure?: { message: string };
      incomplete?: string;
      lost?: boolean;
      interrupted?: boolean;
    };
    const applyStarted = Date.now();
    try {
      outcome = await applyOps(session, ops, {
        commandLine,
        timeoutMs: options.applyTimeoutMs ?? 300_000,
        interrupt: options.signal,
        onOpDone: (index) => {
          if (ops[index]?.change) changesDone++;
          advance(index);
        },
      });
    } catch (error) {
      outcome = { incomplete: errorMessage(error), lost: isUnreachable(error) };
    }
    observer.detail?.(
      host.name,
      1,
      `applied ${changesDone} of ${ops.filter((op) => op.change).length} changes: 1 round trip, ${Date.now() - applyStarted} ms`,
    );
    if (outcome.interrupted) {
      // Ctrl-C: the batch finished the task in flight and started no other.
      const all = plans.map(
        (p): TaskResult =>
          results.get(p.task) ?? {
            task: p.task,
            status: 'skipped',
            durationMs: 0,
            changes: [],
            message: 'interrupted',
          },
      );
      for (const r of all) if (!results.has(r.task)) observer.taskFinished?.(host.name, r);
      return finish({ status: hostStatus(all), tasks: all, stats: session.stats });
    }
    const stopped = outcome.failure ?? (outcome.incomplete !== undefined ? outcome : undefined);
    if (!stopped) {
      advance(ops.length);
      const all = plans.map((p) => results.get(p.task) ?? resultOf(p, 0));
      return finish({ status: hostStatus(all), tasks: all, stats: session.stats });
    }
    // The task in flight failed; the ones after it were never started.
    const failedTask = plans[next]?.task ?? 'users';
    const why = outcome.failure?.message ?? outcome.incomplete ?? 'unknown failure';
    const all = plans.map((p, i): TaskResult => {
      const settled = results.get(p.task);
      if (settled) return settled;
      if (i === next)
        return {
          task: p.task,
          status: 'failed',
          durationMs: Date.now() - clock,
          changes: p.changes,
          message: why,
        };
      return {
        task: p.task,
        status: 'skipped',
        durationMs: 0,
        changes: [],
        message: `not run: ${failedTask} failed`,
      };
    });
    const failed = all[next];
    if (failed) observer.taskFinished?.(host.name, failed);
    // A host lost before its first change is unreachable; after it, it failed half-way.
    const lostBeforeChange = outcome.lost === true && changesDone === 0;
    return finish({
      status: lostBeforeChange ? 'unreachable' : 'failed',
      tasks: all,
      failedTask,
      message: why,
      stats: session.stats,
    });
  }
}

function hostStatus(results: readonly TaskResult[]): HostResult['status'] {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  return results.some((r) => r.status === 'changed') ? 'changed' : 'ok';
}
