import { emptyFacts, gatherFacts } from '../facts/gather.js';
import type { FactRequest, HostFacts } from '../facts/types.js';
import { asInstance, hostInstances, type HostSpec } from '../inventory/types.js';
import { planHost } from '../plan/plan-host.js';
import type { TaskName, TaskPlan } from '../plan/types.js';
import type { Executor } from '../exec/executor.js';
import type { Task } from '../plan/task.js';
import { errorMessage, isUnreachable } from './host-errors.js';
import { skippedTask, type TaskResult } from './types.js';

export interface ReadAndPlanOptions {
  /** Tasks not selected plan nothing (an empty plan) and ask for no facts unless they amend. */
  selected: ReadonlySet<TaskName>;
  /** Wraps the read script in the command line that runs it as root on the host. */
  commandLine: (script: string) => string;
  /** Facts no task asks for, read in the same round trip (`status` adds the version). */
  extraFacts?: readonly FactRequest[];
}

export type ReadFacts = HostFacts & { uid: number };

/** Why a host cannot be applied to: it could not be read, or a task could not plan. */
export interface PlanFailure {
  ok: false;
  status: 'failed' | 'unreachable';
  message: string;
  /** Per task when planning failed (the failing one and the others skipped); else empty. */
  tasks: TaskResult[];
  failedTask?: TaskName;
  /** The instance the failing task planned for (`instances:`). */
  failedInstance?: string;
}

/** The plans to apply, or why there are none. */
export type PlanOutcome = { ok: true; plans: TaskPlan[] } | PlanFailure;

export type ReadAndPlanOutcome =
  | { ok: true; facts: ReadFacts; plans: TaskPlan[] }
  | (PlanFailure & {
      /** Present when the read succeeded and only the plan (or the login's uid) failed. */
      facts?: ReadFacts;
    });

/** The facts each task reading for this run asks for (for each instance), and any extra ones. */
export function factRequests(
  host: HostSpec,
  tasks: readonly Task[],
  options: Pick<ReadAndPlanOptions, 'selected' | 'extraFacts'>,
): FactRequest[] {
  // A task that amends the others' plans reads its facts even when not selected: amend runs
  // for every task (a `--tags merge` run notes the restart it owes the running gateway).
  const readers = tasks.filter((t) => options.selected.has(t.name) || t.amend !== undefined);
  const instances = hostInstances(host).map((hermes) => asInstance(host, hermes));
  return [
    ...instances.flatMap((one) => readers.flatMap((t) => t.facts(one))),
    ...(options.extraFacts ?? []),
  ];
}

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
    facts = await gatherFacts(session, factRequests(host, tasks, options), {
      commandLine: options.commandLine,
    });
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
  return { ...planAgainst(host, facts, tasks, options.selected), facts };
}

/**
 * Plans a task list that asks for no fact (`restart`: everything it needs is in the inventory)
 * without a read: the host costs the apply's round trip alone. Without the read there is no
 * check that the login is root; a login that is not fails in the apply, in systemctl's words.
 */
export function planWithoutRead(
  host: HostSpec,
  tasks: readonly Task[],
  selected: ReadonlySet<TaskName>,
): PlanOutcome {
  return planAgainst(host, emptyFacts(), tasks, selected);
}

function planAgainst(
  host: HostSpec,
  facts: HostFacts,
  tasks: readonly Task[],
  selected: ReadonlySet<TaskName>,
): PlanOutcome {
  const planned = planHost(host, facts, tasks, selected);
  if (planned.ok) return { ok: true, plans: planned.plans };
  // Nothing is applied on a host whose plan cannot be completed.
  const failed = planned.task;
  const instance = planned.instance;
  const message =
    instance === undefined
      ? planned.error.message
      : `instance ${instance}: ${planned.error.message}`;
  const results: TaskResult[] = hostInstances(host).flatMap((h) => {
    const named = h.instance === undefined ? {} : { instance: h.instance };
    return tasks.map((t): TaskResult =>
      t.name === failed && h.instance === instance
        ? { task: t.name, ...named, status: 'failed', durationMs: 0, changes: [], message }
        : { ...skippedTask(t.name, `not applied: ${failed} failed`), ...named },
    );
  });
  return {
    ok: false,
    status: 'failed',
    message,
    tasks: results,
    failedTask: failed,
    ...(instance === undefined ? {} : { failedInstance: instance }),
  };
}
