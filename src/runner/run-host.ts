import { applyOps, type ApplyOutcome } from '../apply/apply.js';
import { recordOf } from '../changes/index.js';
import {
  healthCheck,
  opSummary,
  planOps,
  rollsBack,
  type Op,
  type RecordContext,
} from '../apply/encode-ops.js';
import type { Executor } from '../exec/executor.js';
import type { HostSpec } from '../inventory/types.js';
import type { Task } from '../plan/task.js';
import type { TaskName, TaskPlan } from '../plan/types.js';
import { cutOffFacts, describeCutOff } from './cut-off.js';
import {
  lockFact,
  lockOp,
  lockRequest,
  lockedMessage,
  midApplyMessage,
  tookOverMessage,
  type LockIdentity,
} from './host-lock.js';
import { parseKeyValues } from '../facts/gather.js';
import { errorMessage, isUnreachable } from './host-errors.js';
import { factRequests, planWithoutRead, readAndPlan, type PlanOutcome } from './read-and-plan.js';
import { TaskProgress, taskResult } from './task-progress.js';
import { HostTimeline } from './timeline.js';
import {
  noTraffic,
  skippedTask,
  type HostResult,
  type RollbackReport,
  type RunObserver,
  type TaskResult,
  type TransportStats,
} from './types.js';

/** What the host runner needs from a connection: the executor, its counters, and close. */
export interface HostSession extends Executor {
  readonly stats: TransportStats;
  /** What the observers' `warning` event passes on (RunObserver, CommandObserver). */
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
  /** Milliseconds the apply batch may take, the health checks' own waits included. */
  applyTimeoutMs?: number;
  /** `--no-rollback`: a failed health check leaves the host as the run made it. */
  noRollback?: boolean;
  /** What a generation recorded by this run says about it. */
  record?: RecordContext;
  /** When the run started (Date.now()): the origin of the host's timeline; default the host's. */
  runStartedAt?: number;
  /**
   * Who takes the host's lock for the apply (src/runner/host-lock.ts), and how long to wait for
   * it. Every command that changes a host passes it; without it nothing is locked (unit tests).
   */
  lock?: LockIdentity;
}

/** A run whose plan went stale under it (another batch ran since its read) reads again, so often. */
const MAX_READS = 3;

type Finish = (result: Omit<HostResult, 'host' | 'durationMs'>) => HostResult;

/** Every task skipped, for one reason (interrupted before the host started, …). */
export function skippedTasks(tasks: readonly { name: TaskName }[], why: string): TaskResult[] {
  return tasks.map((task) => skippedTask(task.name, why));
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
  const timeline = new HostTimeline(options.runStartedAt ?? started);
  const observer = timeline.watch(options.observer);
  observer.hostStarted?.(host.name);
  const finish: Finish = (result) => {
    const full: HostResult = {
      host: host.name,
      durationMs: Date.now() - started,
      ...result,
      timeline: timeline.result(),
    };
    observer.hostFinished?.(full);
    return full;
  };

  if (options.signal.aborted) {
    return finish({
      status: 'skipped',
      tasks: skippedTasks(tasks, 'interrupted'),
      stats: noTraffic(),
    });
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
  for (const warning of session.warnings) observer.warning?.(host.name, warning);
  try {
    return await converge(host, tasks, session, {
      ...options,
      observer,
      commandLine: (script) => options.commandLine(script, become),
      finish,
    });
  } finally {
    session.close();
  }
}

interface ConvergeOptions extends Omit<HostRunOptions, 'commandLine' | 'open'> {
  commandLine: (script: string) => string;
  finish: Finish;
}

/**
 * Read and plan, then (unless a check, or nothing to do) apply. A task list that asks for no
 * fact skips the read: nothing there to learn, and a round trip saved. The read also finds the
 * host's lock: held by another run, the host fails here, before anything is planned (a check
 * says the host is mid-apply). A batch that finds another one ran since the read changes
 * nothing, and the host is read and planned again.
 */
async function converge(
  host: HostSpec,
  tasks: readonly Task[],
  session: HostSession,
  options: ConvergeOptions,
): Promise<HostResult> {
  const { observer } = options;
  const waitUntil = Date.now() + (options.lock?.waitSeconds ?? 0) * 1000;
  const waitLeft = () => Math.max(0, (waitUntil - Date.now()) / 1000);
  let cutOff: string | undefined;
  const finish: Finish = (result) =>
    options.finish(cutOff === undefined ? result : { ...result, cutOff });
  for (let reads = 1; ; reads++) {
    let read: PlanOutcome;
    let serial: string | undefined;
    if (factRequests(host, tasks, options).length === 0) {
      read = planWithoutRead(host, tasks, options.selected);
    } else {
      observer.hostPhase?.(host.name, 'reading facts');
      const readStarted = Date.now();
      // A check never waits for the lock: it says what it found.
      const wait = options.check ? 0 : waitLeft();
      const outcome = await readAndPlan(session, host, tasks, {
        selected: options.selected,
        commandLine: options.commandLine,
        extraFacts: [lockRequest(wait), ...cutOffFacts()],
      });
      const lock = outcome.facts ? lockFact(outcome.facts) : undefined;
      // A batch that is running, or whose output its controller is still receiving, was not cut
      // off: only a word left with nobody to hear it is reported.
      if (outcome.facts && reads === 1 && lock?.state !== 'held' && lock?.streaming !== true) {
        cutOff = describeCutOff(outcome.facts);
      }
      observer.detail?.(
        host.name,
        1,
        `read the host's state: 1 round trip, ${Date.now() - readStarted} ms`,
      );
      if (lock?.state === 'held' && lock.torn === true && !options.check && reads < MAX_READS) {
        // Another run's batch began while this one read: what was read may be half old.
        observer.detail?.(host.name, 1, 'another run took the lock during the read: reading again');
        continue;
      }
      if (lock?.state === 'held') {
        const message = options.check
          ? midApplyMessage(lock.holder)
          : lockedMessage(lock.holder, options.lock?.waitSeconds ?? 0);
        return finish({
          status: 'failed',
          tasks: skippedTasks(tasks, options.check ? 'not checked: mid-apply' : 'not run: locked'),
          message,
          stats: session.stats,
        });
      }
      serial = lock?.serial;
      read = outcome;
    }
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
    const ops = planOps(plans, {
      noRollback: options.noRollback === true,
      ...(options.record ? { record: options.record } : {}),
    });
    if (options.check || ops.length === 0) {
      const results = plans.map((p) => taskResult(p, options.selected, 0));
      for (const r of results) observer.taskFinished?.(host.name, r);
      return finish({ status: hostStatus(results), tasks: results, stats: session.stats });
    }
    if (options.signal.aborted) {
      return finish({
        status: 'skipped',
        tasks: skippedTasks(tasks, 'interrupted before applying'),
        stats: session.stats,
      });
    }
    const first = ops[0]?.task ?? tasks[0]?.name ?? '';
    const locked = options.lock
      ? [
          lockOp(first, options.lock, {
            ...(serial !== undefined ? { serial } : {}),
            waitSeconds: waitLeft(),
          }),
        ]
      : [];
    const result = await apply(host, plans, [...locked, ...ops], session, {
      ...options,
      finish,
      applyTimeoutMs: (options.applyTimeoutMs ?? 300_000) + waitLeft() * 1000,
    });
    if (result !== 'moved') return result;
    observer.detail?.(
      host.name,
      1,
      'another run changed this host since it was read: reading it again',
    );
    if (reads >= MAX_READS) {
      return finish({
        status: 'failed',
        tasks: skippedTasks(tasks, 'not run: the host kept changing'),
        message: `other runs changed this host each time it was read (${reads} reads); nothing was changed by this run`,
        stats: session.stats,
      });
    }
  }
}

/** The apply round trip, with live per-task progress, and the host's result from its outcome. */
async function apply(
  host: HostSpec,
  plans: readonly TaskPlan[],
  ops: readonly Op[],
  session: HostSession,
  options: ConvergeOptions,
): Promise<HostResult | 'moved'> {
  const { observer } = options;
  let { finish } = options;
  observer.hostPhase?.(host.name, 'applying');
  observer.batchStarted?.(host.name, ops);
  for (const op of ops) if (op.change) observer.detail?.(host.name, 2, opSummary(op));
  const progress = new TaskProgress(host.name, plans, ops, options.selected, observer);
  progress.advance(-1);
  let changesDone = 0;
  let outcome: Partial<ApplyOutcome> & { lost?: boolean };
  const applyStarted = Date.now();
  try {
    outcome = await applyOps(session, ops, {
      commandLine: options.commandLine,
      timeoutMs: options.applyTimeoutMs ?? 300_000,
      interrupt: options.signal,
      onOpDone: (index) => {
        if (ops[index]?.change) changesDone++;
        progress.advance(index);
        observer.opDone?.(host.name, index);
      },
      onOpFailed: (index) => observer.opFailed?.(host.name, index),
      onRollbackBegin: () => observer.rollbackBegan?.(host.name),
    });
  } catch (error) {
    outcome = { incomplete: errorMessage(error), lost: isUnreachable(error) };
  }
  observer.batchEnded?.(host.name);
  const changeCount = ops.filter((op) => op.change).length;
  observer.detail?.(
    host.name,
    1,
    `applied ${changesDone} of ${changeCount} changes: 1 round trip, ${Date.now() - applyStarted} ms`,
  );
  const stats = session.stats;
  const lock = outcome.lock;
  if (lock?.moved !== undefined) return 'moved';
  if (lock?.busy !== undefined) {
    return finish({
      status: 'failed',
      tasks: skippedTasks(
        plans.map((p) => ({ name: p.task })),
        'not run: locked',
      ),
      message: lockedMessage(parseKeyValues(lock.busy), options.lock?.waitSeconds ?? 0),
      stats,
    });
  }
  if (lock?.tookOver !== undefined) {
    const { holder, bootId } = lock.tookOver;
    finish = withLockTakenOver(finish, tookOverMessage(parseKeyValues(holder), bootId));
  }
  if (outcome.interrupted) {
    // Ctrl-C: the batch finished the task in flight and started no other.
    const all = progress.results((p) => skippedTask(p.task, 'interrupted'));
    return finish({ status: hostStatus(all), tasks: all, stats });
  }
  const cause = outcome.failure?.message ?? outcome.incomplete;
  const rollback =
    outcome.failure && cause !== undefined
      ? rollbackReport(plans, ops[outcome.failure.index], outcome, cause, options)
      : undefined;
  const why = rollback ? describeRollback(rollback) : cause;
  if (why === undefined) {
    progress.advance(ops.length);
    const all = progress.results((p) => taskResult(p, options.selected, 0));
    return finish({ status: hostStatus(all), tasks: all, stats });
  }
  // The task in flight failed; the ones after it were never started.
  const failedAt = progress.currentIndex;
  const failedTask = progress.current?.task ?? plans[0]?.task ?? '';
  const elapsed = progress.elapsed();
  const all = progress.results(
    (p, i) =>
      i === failedAt
        ? { task: p.task, status: 'failed', durationMs: elapsed, changes: p.changes, message: why }
        : skippedTask(p.task, `not run: ${failedTask} failed`),
    (i) => i === failedAt,
  );
  // A host lost before its first change is unreachable; after it, it failed half-way.
  const lostBeforeChange = outcome.lost === true && changesDone === 0;
  return finish({
    status: lostBeforeChange ? 'unreachable' : 'failed',
    tasks: all,
    failedTask,
    message: why,
    ...(rollback ? { rollback } : {}),
    stats,
  });
}

function withLockTakenOver(finish: Finish, message: string): Finish {
  return (result) => finish({ ...result, lockTakenOver: message });
}

/** What became of a host whose restart or health check failed; undefined for other failures. */
function rollbackReport(
  plans: readonly TaskPlan[],
  failed: Op | undefined,
  outcome: Partial<ApplyOutcome>,
  cause: string,
  options: ConvergeOptions,
): RollbackReport | undefined {
  const change = failed?.change;
  // Only a failed (re)start or health check rolls back; other failures stop the batch.
  if (!change || !recordOf(change).restarts(change)) return undefined;
  const done = outcome.rollback;
  if (done) {
    // The generation the planner found the host on: the state the rollback put back.
    const before = healthCheck(plans, true)?.generation;
    const generation = before !== undefined ? { generation: before } : {};
    return done.failure === undefined
      ? { outcome: 'rolled-back', ...generation, cause }
      : { outcome: 'rollback-failed', ...generation, cause, message: done.failure };
  }
  if (options.noRollback === true && rollsBack(plans)) {
    return { outcome: 'not-rolled-back', reason: 'no-rollback', cause };
  }
  const firstDeploy = healthCheck(plans, false) !== undefined;
  return firstDeploy ? { outcome: 'not-rolled-back', reason: 'first-deploy', cause } : undefined;
}

/** The host's message: the rollback first, then why the new state failed. */
export function describeRollback(r: RollbackReport): string {
  if (r.outcome === 'not-rolled-back') {
    return r.reason === 'first-deploy'
      ? `${r.cause}\n(first deploy: nothing before this run to roll back to; left as this run made it)`
      : `${r.cause}\n(not rolled back: --no-rollback; left as this run made it)`;
  }
  const to =
    r.generation !== undefined ? `generation ${r.generation}` : 'the state before this run';
  if (r.outcome === 'rolled-back') return `rolled back to ${to}: ${r.cause}`;
  return `rolled back to ${to}: ${r.cause}\n--- and the rollback failed too ---\n${r.message}`;
}

function hostStatus(results: readonly TaskResult[]): HostResult['status'] {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  return results.some((r) => r.status === 'changed') ? 'changed' : 'ok';
}
