import { noTraffic, type TransportStats } from '../exec/executor.js';
import type { FactRequest } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import type { Task } from '../plan/task.js';
import { errorMessage, isUnreachable } from './host-errors.js';
import { readAndPlan, type ReadAndPlanOutcome } from './read-and-plan.js';
import type { HostSession } from './run-host.js';

export interface HostReadOptions {
  open: (host: HostSpec) => Promise<{ session: HostSession; become: boolean }>;
  commandLine: (script: string, become: boolean) => string;
  /** Facts no task asks for, read in the same round trip (`status` adds the version). */
  extraFacts?: readonly FactRequest[];
}

export interface HostRead {
  /** A login that failed is an outcome too: `unreachable` (or `failed`), with no facts. */
  read: ReadAndPlanOutcome;
  stats: TransportStats;
  durationMs: number;
}

/**
 * Logs in and reads the host once: the facts every task needs (and `extraFacts`), planned as a
 * check plans them. Read-only: nothing is applied, whatever the plan says. `status` runs this.
 */
export async function readHost(
  host: HostSpec,
  tasks: readonly Task[],
  options: HostReadOptions,
): Promise<HostRead> {
  const started = Date.now();
  let opened: { session: HostSession; become: boolean };
  try {
    opened = await options.open(host);
  } catch (error) {
    return {
      read: {
        ok: false,
        status: isUnreachable(error) ? 'unreachable' : 'failed',
        message: errorMessage(error),
        tasks: [],
      },
      stats: noTraffic(),
      durationMs: Date.now() - started,
    };
  }
  const { session, become } = opened;
  try {
    const read = await readAndPlan(session, host, tasks, {
      selected: new Set(tasks.map((task) => task.name)),
      commandLine: (script) => options.commandLine(script, become),
      ...(options.extraFacts ? { extraFacts: options.extraFacts } : {}),
    });
    return { read, stats: { ...session.stats }, durationMs: Date.now() - started };
  } finally {
    session.close();
  }
}
