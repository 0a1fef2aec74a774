import type { TransportStats } from '../exec/executor.js';
import type { Change, TaskName } from '../plan/types.js';

export { noTraffic, type TransportStats } from '../exec/executor.js';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface TaskResult {
  task: TaskName;
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

export interface HostResult {
  host: string;
  status: HostStatus;
  tasks: TaskResult[];
  /** The task the host was in when it failed or was lost. */
  failedTask?: TaskName;
  /** Failure or unreachable reason, for humans. */
  message?: string;
  durationMs: number;
  stats: TransportStats;
}

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
  /** Verbose detail (-v: command summaries and durations; -vv: the commands). */
  detail?(host: string, level: 1 | 2, text: string): void;
}
