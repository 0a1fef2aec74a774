import type { HostFacts } from '../facts/types.js';
import { asInstance, hostInstances, type HostSpec } from '../inventory/types.js';
import type { Task } from './task.js';
import { PlanError, type Change, type TaskName, type TaskPlan } from './types.js';

export type HostPlan =
  | { ok: true; plans: TaskPlan[] }
  /** A task could not plan: nothing may be applied on this host. */
  | { ok: false; task: TaskName; instance?: string; error: PlanError };

/**
 * The planning step, pure: each instance of the host in turn (`hermes:` alone is the one), each
 * task in order against the same facts (a task sees the plans of the tasks before it for the
 * same instance), then every task may amend that instance's plans (the service task's
 * pending-restart note goes ahead of the first write the gateway reads). A task's record of
 * what it owns follows its own changes. A task not in `selected` plans (and records) nothing,
 * but still amends. A change a later instance plans that an earlier one already holds (the
 * shared account, release or entrypoint) is left to the earlier one: the host needs it once.
 * Errors other than PlanError are bugs and thrown.
 */
export function planHost(
  host: HostSpec,
  facts: HostFacts,
  tasks: readonly Task[],
  selected?: ReadonlySet<TaskName>,
): HostPlan {
  const all: TaskPlan[] = [];
  for (const hermes of hostInstances(host)) {
    const planned = planInstance(asInstance(host, hermes), facts, tasks, selected);
    const instance = hermes.instance;
    if (!planned.ok) return instance === undefined ? planned : { ...planned, instance };
    all.push(
      ...(instance === undefined ? planned.plans : planned.plans.map((p) => ({ ...p, instance }))),
    );
  }
  return { ok: true, plans: withoutRepeats(all) };
}

function planInstance(
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

/**
 * What makes two instances' changes the same host-wide change: an account by its name (its home
 * is the first instance's), an image by its id, a release or another path by every field. Kinds
 * an instance needs for itself whatever another did (systemd actions: a daemon-reload before
 * each unit's restart; the health check, the pending-restart note, the generations, a
 * container's removal) are never shared.
 */
function sharedKey(change: Change): string | undefined {
  switch (change.kind) {
    case 'group-create':
    case 'user-create':
      return `${change.kind}\t${change.name}`;
    case 'image-load':
      return `${change.kind}\t${change.backend}\t${change.archive.id}`;
    case 'systemd':
    case 'wait-healthy':
    case 'restart-pending':
    case 'generation':
    case 'generation-restore':
    case 'container-remove':
      return undefined;
    default:
      return JSON.stringify(change);
  }
}

function withoutRepeats(plans: readonly TaskPlan[]): TaskPlan[] {
  if (!plans.some((plan) => plan.instance !== undefined)) return [...plans];
  const seen = new Set<string>();
  return plans.map((plan) => ({
    ...plan,
    changes: plan.changes.filter((change) => {
      const key = sharedKey(change);
      if (key === undefined) return true;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
  }));
}
