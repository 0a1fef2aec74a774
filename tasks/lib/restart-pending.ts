import { UNIT_PROCESS_STATES, type FactRequest, type HostFacts } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change, TaskPlan } from '../../src/plan/types.js';
import { pathFact, unitFact } from './facts-access.js';
import { unitName } from './layout.js';
import { restartReasons } from './restart-reasons.js';

/**
 * A restart owed to the gateway survives a run that stops half-way: before the first write the
 * gateway reads (config.yaml, .env, auth.json, a document), the batch records it here, and only
 * a restart that passed its health check clears it. Without it, a run that wrote config.yaml and
 * then failed, was interrupted or ran with `--tags merge` would leave the gateway on the old
 * config for good: the next run finds the files right and sees nothing to restart for. It lives
 * in /run (root's, and gone after a reboot, which restarts the gateway anyway).
 */
export const RESTART_PENDING = '/run/hermes-fleet-restart-pending';

/** Each instance owes its own restart: `hermes:` alone keeps the name it always had. */
export function restartPendingPath(h: Pick<HermesSettings, 'instance'>): string {
  return h.instance === undefined ? RESTART_PENDING : `${RESTART_PENDING}-${h.instance}`;
}

export function restartPendingFacts(h: Pick<HermesSettings, 'instance'>): FactRequest[] {
  return [{ kind: 'path', path: restartPendingPath(h) }];
}

export function restartIsPending(h: Pick<HermesSettings, 'instance'>, facts: HostFacts): boolean {
  return pathFact(facts, restartPendingPath(h)).kind !== 'absent';
}

/**
 * Whether this run notes a restart: the gateway runs and a task before the service task (the
 * service's own writes, the unit and the container identity, are restarted for in the same
 * task and need no note) changes something it reads.
 */
export function notesRestart(
  h: HermesSettings,
  facts: HostFacts,
  earlier: readonly TaskPlan[],
): boolean {
  // A gateway that is not running gets started by any later run: no note needed.
  const running = UNIT_PROCESS_STATES.has(unitFact(facts, unitName(h)).activeState);
  return running && !restartIsPending(h, facts) && restartReasons(h, earlier).length > 0;
}

/** The plans with the note written ahead of the first change that needs a restart. */
export function markRestartPending(
  h: HermesSettings,
  facts: HostFacts,
  plans: readonly TaskPlan[],
): TaskPlan[] {
  const serviceAt = plans.findIndex((plan) => plan.task === 'service');
  const earlier = serviceAt < 0 ? plans : plans.slice(0, serviceAt);
  if (!notesRestart(h, facts, earlier)) return [...plans];
  const first = earlier.findIndex((plan) => restartReasons(h, [plan]).length > 0);
  const mark: Change = {
    kind: 'restart-pending',
    action: 'set',
    path: restartPendingPath(h),
    unit: unitName(h),
  };
  return plans.map((plan, i) =>
    i === first ? { ...plan, changes: [mark, ...plan.changes] } : plan,
  );
}

/** Clears the marker once the restart it asked for has passed its health check. */
export function clearRestartPending(h: Pick<HermesSettings, 'instance'>): Change {
  return {
    kind: 'restart-pending',
    action: 'clear',
    path: restartPendingPath(h),
    unit: unitName(h),
  };
}
