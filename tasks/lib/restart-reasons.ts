import { posix } from 'node:path';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { TaskPlan } from '../../src/plan/types.js';
import { ownedPath } from './fleet-owned.js';
import { documentPath, hermesPaths, isUnder } from './layout.js';

/**
 * What the gateway reads at start-up and an earlier task of this run rewrites or removes:
 * config.yaml, .env, auth.json and the documents (anything in workingDirectory, and a nested
 * document wherever its key puts it, also one the docs task removes). Everything
 * else in stateDir is bookkeeping the gateway never reads (the `.managed` marker for
 * interactive shells, the copy of a broken config.yaml, the fleet's records of what it owns),
 * and a mode or owner fix (`attrs`) changes nothing the running gateway sees: none restarts it.
 */
export function restartReasons(h: HermesSettings, earlier: readonly TaskPlan[]): string[] {
  const p = hermesPaths(h);
  const documents = new Set(Object.keys(h.documents).map((key) => documentPath(h, key)));
  const docsRecord = ownedPath(h, 'documents');
  const read = (path: string, task: string) =>
    documents.has(path) ||
    (task === 'docs' && path !== docsRecord) ||
    path === p.configYaml ||
    path === p.envFile ||
    path === p.authJson ||
    (isUnder(path, p.workingDirectory) && path !== p.workingDirectory);
  const reasons: string[] = [];
  for (const plan of earlier) {
    for (const change of plan.changes) {
      if ((change.kind === 'file' || change.kind === 'remove') && read(change.path, plan.task)) {
        const what = change.kind === 'file' ? 'changed' : 'removed';
        reasons.push(`${posix.basename(change.path)} ${what}`);
      }
    }
  }
  return reasons;
}
