import { posix } from 'node:path';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { TaskPlan } from '../../src/plan/types.js';
import { hermesPaths, isUnder } from './layout.js';

/**
 * What the gateway reads at start-up and this run rewrites: config.yaml, .env, auth.json and the
 * documents, i.e. every earlier `file` change under stateDir or workingDirectory. The `.managed`
 * marker is for interactive shells only and the copy of a broken config.yaml is for people, so
 * writing them restarts nothing. Mode or owner fixes
 * (`attrs`) change nothing the running gateway sees.
 */
export function restartReasons(h: HermesSettings, earlier: readonly TaskPlan[]): string[] {
  const p = hermesPaths(h);
  const reasons: string[] = [];
  for (const plan of earlier) {
    for (const change of plan.changes) {
      if (change.kind !== 'file' || change.path === p.managedMarker) continue;
      if (change.path === p.configBackup) continue;
      if (isUnder(change.path, p.stateDir) || isUnder(change.path, p.workingDirectory)) {
        reasons.push(`${posix.basename(change.path)} changed`);
      }
    }
  }
  return reasons;
}
