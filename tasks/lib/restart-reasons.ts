import { posix } from 'node:path';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { TaskPlan } from '../../src/plan/types.js';
import { hermesPaths, isUnder } from './layout.js';

/**
 * What the gateway reads at start-up and an earlier task of this run rewrites or removes:
 * config.yaml, .env, auth.json and the documents (anything in workingDirectory). Everything
 * else in stateDir is bookkeeping the gateway never reads (the `.managed` marker for
 * interactive shells, the copy of a broken config.yaml, the fleet's records of what it owns),
 * and a mode or owner fix (`attrs`) changes nothing the running gateway sees: none restarts it.
 */
export function restartReasons(h: HermesSettings, earlier: readonly TaskPlan[]): string[] {
  const p = hermesPaths(h);
  const read = (path: string) =>
    path === p.configYaml ||
    path === p.envFile ||
    path === p.authJson ||
    (isUnder(path, p.workingDirectory) && path !== p.workingDirectory);
  const reasons: string[] = [];
  for (const plan of earlier) {
    for (const change of plan.changes) {
      if ((change.kind === 'file' || change.kind === 'remove') && read(change.path)) {
        const what = change.kind === 'file' ? 'changed' : 'removed';
        reasons.push(`${posix.basename(change.path)} ${what}`);
      }
    }
  }
  return reasons;
}
