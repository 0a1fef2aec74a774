import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change } from '../../src/plan/types.js';
import { unitName } from './layout.js';

/**
 * The health check after every start or restart, the run's and `hermes-fleet restart`'s alike:
 * the unit must become active and stay up `healthCheck.seconds`, then `healthCheck.command`,
 * when set, must exit 0 as the service account. One definition, so the two cannot drift apart.
 * `rollback`: there is a state before this run to go back to when the check fails.
 */
export function healthCheck(
  h: HermesSettings,
  rollback?: { possible: boolean; generation?: number | undefined },
): Change {
  return {
    kind: 'wait-healthy',
    unit: unitName(h),
    seconds: h.healthCheck.seconds,
    user: h.user,
    ...(rollback !== undefined ? { rollback: rollback.possible } : {}),
    ...(rollback?.generation !== undefined ? { generation: rollback.generation } : {}),
    ...(h.healthCheck.command !== undefined ? { command: h.healthCheck.command } : {}),
  };
}
