import type { HostSpec } from '../src/inventory/types.js';
import type { Task } from '../src/plan/task.js';
import type { Change } from '../src/plan/types.js';
import { healthCheck } from './lib/health-check.js';
import { unitName } from './lib/layout.js';
import { clearRestartPending } from './lib/restart-pending.js';

/**
 * `hermes-fleet restart`'s one task: restart the gateway and check its health exactly as a run
 * does after a restart. It plans from the inventory alone, so it asks no fact and costs no read
 * round trip; it writes no file. A restart that passed its health check also pays any restart
 * an earlier run owed (restart-pending.ts), so it clears that note, as a run's restart does:
 * otherwise the next run would restart the gateway once more for nothing.
 */
export const restartTask: Task = {
  name: 'restart',

  facts(): [] {
    return [];
  },

  plan(host: HostSpec): Change[] {
    return [
      {
        kind: 'systemd',
        action: 'restart',
        unit: unitName(host.hermes),
        reason: 'hermes-fleet restart',
      },
      healthCheck(host.hermes),
      clearRestartPending(host.hermes),
    ];
  },
};
