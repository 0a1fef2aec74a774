import { gatherFacts } from '../facts/gather.js';
import type { FactRequest, HostFacts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import { PlanError, type TaskName, type TaskPlan } from '../plan/types.js';
import type { Executor } from '../exec/executor.js';
import type { Task } from '../plan/task.js';
import { errorMessage, isUnreachable } from './host-errors.js';
import type { TaskResult } from './types.js';

export interface ReadAndPlanOptions {
  /** Tasks not selected plan nothing (an empty plan) and ask for no facts unless they amend. */
  selected: ReadonlySet<TaskName>;
  /** Wraps the read script in the command line that runs it as root on the host. */
  commandLine: (script: string) => string;
  /** Facts no task asks for, read in the same round trip (`status` adds the version). */
  extraFacts?: readonly FactRequest[];
}

export type ReadFacts = HostFacts & { uid: number };

export type ReadAndPlanOutcome =
  | { ok: true; facts: ReadFacts; plans: TaskPlan[] }
  | {
      ok: false;
      status: 'failed' | 'unreachable';
      message: string;
      /** Per task when planning failed (the failing one and the others skipped); else empty. */
      tasks: TaskResult[];
      failedTask?: TaskName;
      /** Present when the read succeeded and only the plan (or the login's uid) failed. */
      facts?: ReadFacts;
    };

/**
 * Everything a run does before it applies, and all a check does: read every fact the selected
 * tasks need in one round trip, then plan each task (pure) against those facts. `status` runs
 * exactly this too, so "in sync" means what a check would say.
 */
export async function readAndPlan(
  session: Executor,
  host: HostSpec,
  tasks: readonly Task[],
  options: ReadAndPlanOptions,
): Promise<ReadAndPlanOutcome> {
  let facts: ReadFacts;
  try {
    // A task that amends the others' plans reads its facts even when not selected: amend runs
    // for every task (a `--tags merge` run notes the restart it owes the running gateway).
    const readers = tasks.filter((t) => options.selected.has(t.name) || t.amend !== undefined);
    facts = await gatherFacts(
      session,
      [...readers.flatMap((t) => t.facts(host)), ...(options.extraFacts ?? [])],
      { commandLine: options.commandLine },
    );
  } catch (error) {
    return {
      ok: false,
      status: isUnreachable(error) ? 'unreachable' : 'failed',
      message: `reading the host's state: ${errorMessage(error)}`,
      tasks: [],
    };
  }
  if (facts.uid !== 0) {
    return {
      ok: false,
      status: 'failed',
      message: `commands run as uid ${facts.uid}, not root: log in as root, or set ssh.become: sudo`,
      tasks: [],
      facts,
    };
  }

  // Plan every task against the facts read before anything is applied.
  const plans: TaskPlan[] = [];
  for (const task of tasks) {
    if (!options.selected.has(task.name)) {
      plans.push({ task: task.name, changes: [] });
      continue;
    }
    try {
      plans.push({ task: task.name, changes: task.plan(host, facts, plans) });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      // Nothing is applied on a host whose plan cannot be completed.
      const results: TaskResult[] = tasks.map((t) =>
        t.name === task.name
          ? { task: t.name, status: 'failed', durationMs: 0, changes: [], message: error.message }
          : {
              task: t.name,
              status: 'skipped',
              durationMs: 0,
              changes: [],
              message: `not applied: ${task.name} failed`,
            },
      );
      return {
        ok: false,
        status: 'failed',
        message: error.message,
        tasks: results,
        failedTask: task.name,
        facts,
      };
    }
  }
  // Tasks may add to each other's plans once all have planned (the service task's pending
  // restart marker goes ahead of the first write the gateway reads).
  const amended = tasks.reduce<TaskPlan[]>(
    (current, task) => (task.amend ? task.amend(host, facts, current) : current),
    plans,
  );
  return { ok: true, facts, plans: amended };
}
