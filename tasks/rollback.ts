import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HostSpec } from '../src/inventory/types.js';
import type { Task } from '../src/plan/task.js';
import { PlanError, type Change } from '../src/plan/types.js';
import { currentGeneration, generationFacts, recordGeneration } from './lib/generations.js';
import { healthCheck } from './lib/health-check.js';
import { GENERATIONS_DIR, UNIT_NAME } from './lib/layout.js';
import { clearRestartPending } from './lib/restart-pending.js';

/**
 * `hermes-fleet rollback`'s one task: put generation `to` (default: the one before the current)
 * back with the run's atomic writes, reload systemd, restart, check health (a failure puts back
 * the state before the rollback), and record the result as a new generation. It reads the
 * current generation only: the files come from the host's own copies.
 */
export function rollbackTask(to?: number): Task {
  return {
    name: 'rollback',

    facts(): FactRequest[] {
      return generationFacts();
    },

    plan(host: HostSpec, facts: HostFacts): Change[] {
      const current = currentGeneration(facts);
      if (current === undefined) {
        throw new PlanError(
          'no generation is recorded on this host: nothing to roll back to (a run that passes its health check records one)',
        );
      }
      if (to === undefined && current === 1) {
        throw new PlanError('the host is on generation 1: there is none before it');
      }
      const which = to === undefined ? `the generation before ${current}` : `generation ${to}`;
      return [
        {
          kind: 'generation-restore',
          path: GENERATIONS_DIR,
          ...(to !== undefined ? { number: to } : {}),
          unit: UNIT_NAME,
        },
        {
          kind: 'systemd',
          action: 'daemon-reload',
          unit: UNIT_NAME,
          reason: `rollback to ${which}`,
        },
        { kind: 'systemd', action: 'restart', unit: UNIT_NAME, reason: `rollback to ${which}` },
        healthCheck(host.hermes, { possible: true, generation: current }),
        recordGeneration(host.hermes),
        clearRestartPending(),
      ];
    },
  };
}
