import { UNIT_PROCESS_STATES, type FactRequest, type HostFacts } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change, TaskPlan } from '../../src/plan/types.js';
import { pathFact, unitFact } from './facts-access.js';
import { UNIT_NAME } from './layout.js';
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

export function restartPendingFacts(): FactRequest[] {
  return [{ kind: 'path', path: RESTART_PENDING }];
}

export function restartIsPending(facts: HostFacts): boolean {
  return pathFact(facts, RESTART_PENDING).kind !== 'absent';
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
  const running = UNIT_PROCESS_STATES.has(unitFact(facts, UNIT_NAME).activeState);
  return running && !restartIsPending(facts) && restartReasons(h, earlier).length > 0;
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
    path: RESTART_PENDING,
    unit: UNIT_NAME,
  };
  return plans.map((plan, i) =>
    i === first ? { ...plan, changes: [mark, ...plan.changes] } : plan,
  );
}

/** Clears the marker once the restart it asked for has passed its health check. */
export function clearRestartPending(): Change {
  return { kind: 'restart-pending', action: 'clear', path: RESTART_PENDING, unit: UNIT_NAME };
}
