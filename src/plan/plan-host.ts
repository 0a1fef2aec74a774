import type { HostFacts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import type { Task } from './task.js';
import { PlanError, type TaskName, type TaskPlan } from './types.js';

export type HostPlan =
  | { ok: true; plans: TaskPlan[] }
  /** A task could not plan: nothing may be applied on this host. */
  | { ok: false; task: TaskName; error: PlanError };

/**
 * The planning step, pure: each task in order against the same facts (a task sees the plans of
 * the tasks before it), then every task may amend the others' plans (the service task's
 * pending-restart note goes ahead of the first write the gateway reads). A task's record of
 * what it owns follows its own changes. A task not in `selected` plans (and records) nothing,
 * but still amends. Errors other than PlanError are bugs and thrown.
 */
export function planHost(
  host: HostSpec,
  facts: HostFacts,
  tasks: readonly Task[],
  selected?: ReadonlySet<TaskName>,
): HostPlan {
  const plans: TaskPlan[] = [];
  for (const task of tasks) {
    if (selected && !selected.has(task.name)) {
      plans.push({ task: task.name, changes: [] });
      continue;
    }
    try {
      const changes = task.plan(host, facts, plans);
      plans.push({ task: task.name, changes: [...changes, ...(task.record?.(host, facts) ?? [])] });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      return { ok: false, task: task.name, error };
    }
  }
  const amended = tasks.reduce<TaskPlan[]>(
    (current, task) => (task.amend ? task.amend(host, facts, current) : current),
    plans,
  );
  return { ok: true, plans: amended };
}
