import type { Op } from '../apply/encode-ops.js';
import type { TransportStats } from '../exec/executor.js';
import type { Change, TaskName } from '../plan/types.js';

export { noTraffic, type TransportStats } from '../exec/executor.js';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface TaskResult {
  task: TaskName;
  /** The instance it ran for (`instances:`); absent for `hermes:` alone. */
  instance?: string;
  status: TaskStatus;
  durationMs: number;
  /** Planned changes (check mode) or applied changes (run); empty when ok. */
  changes: Change[];
  /** Why it failed or was skipped, for humans. */
  message?: string;
}

/** A task that did not run, and why (one wording for every such case). */
export function skippedTask(task: TaskName, why: string): TaskResult {
  return { task, status: 'skipped', durationMs: 0, changes: [], message: why };
}

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

/**
 * A host's phases, as the HTML report draws them (recorded by timeline.ts): `connect` (the SSH connection), `read` (the
 * facts: one round trip), `apply` (the batch, its `lock` operation included), `restart` (a
 * `systemd restart/start` operation), `health` (a `wait-healthy` operation: the health wait),
 * `rollback` (from the failed restart or health check to the end of the batch that put the
 * host back).
 */
export type PhaseName = 'connect' | 'read' | 'apply' | 'restart' | 'health' | 'rollback';

/** One phase: milliseconds from the run's start. */
export interface TimelinePhase {
  phase: PhaseName;
  startMs: number;
  endMs: number;
}

export interface HostResult {
  host: string;
  status: HostStatus;
  tasks: TaskResult[];
  /** The task the host was in when it failed or was lost. */
  failedTask?: TaskName;
  /** The instance that task ran for (`instances:`). */
  failedInstance?: string;
  /** Failure or unreachable reason, for humans. */
  message?: string;
  /** The restart or health check after this run's changes failed: what became of the host. */
  rollback?: RollbackReport;
  /** How an earlier run's batch that lost its session ended on the host (src/runner/cut-off.ts). */
  cutOff?: string;
  /** The lock this run took over from a holder that is gone (src/runner/host-lock.ts). */
  lockTakenOver?: string;
  /** Its phases (connect, read, apply, restart, health, rollback), from the run's start. */
  timeline?: TimelinePhase[];
  durationMs: number;
  stats: TransportStats;
}

/**
 * After a failed restart or health check: `rolled-back` (the host is back on the state before
 * this run, healthy), `rollback-failed` (put back, but that failed too: `message` says how), or
 * `not-rolled-back` (a first deploy, or `--no-rollback`: left as this run made it).
 * `generation`: the host's generation that state is, when it has one.
 */
export type RollbackReport =
  | { outcome: 'rolled-back'; generation?: number; cause: string }
  | { outcome: 'rollback-failed'; generation?: number; cause: string; message: string }
  | { outcome: 'not-rolled-back'; reason: 'first-deploy' | 'no-rollback'; cause: string };

export interface RunResult {
  mode: 'run' | 'check';
  hosts: HostResult[];
  durationMs: number;
  interrupted: boolean;
  exitCode: number;
}

/** What the runner tells a live view while hosts progress. */
export interface RunObserver {
  hostStarted?(host: string): void;
  /** A host phase that is not a task: `connecting`, `reading facts`, `applying`. */
  hostPhase?(host: string, phase: string): void;
  taskStarted?(host: string, task: TaskName): void;
  taskFinished?(host: string, result: TaskResult): void;
  hostFinished?(result: HostResult): void;
  /** The apply batch, for the timeline (src/runner/timeline.ts): sent, each op done or failed, */
  batchStarted?(host: string, ops: readonly Op[]): void;
  opDone?(host: string, index: number): void;
  opFailed?(host: string, index: number): void;
  /** the host being put back after a failed restart or health check, and the batch's end. */
  rollbackBegan?(host: string): void;
  batchEnded?(host: string): void;
  /** Verbose detail (-v: command summaries and durations; -vv: the commands). */
  detail?(host: string, level: 1 | 2, text: string): void;
  /**
   * Something the transport must tell the person on every run, not only under -v (host key
   * checking off, an ignored ssh config, a ProxyCommand not run): the connection's warnings,
   * once per host as it logs in. Never a secret.
   */
  warning?(host: string, text: string): void;
}
