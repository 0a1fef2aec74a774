import { posix } from 'node:path';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { ChangeOf, TaskPlan } from '../../src/plan/types.js';
import { documentPath, hermesPaths, isUnder } from './layout.js';

/** The `why` of a removal of what the inventory no longer has. */
export const DROPPED = 'no longer in the inventory';

/**
 * What the gateway reads at start-up and an earlier task of this run rewrites or removes:
 * config.yaml, .env, auth.json and the documents (anything in workingDirectory, and a nested
 * document wherever its key puts it, also one the docs task removes) and the plugins' links in
 * HERMES_HOME/plugins. Everything else in stateDir is bookkeeping the gateway never reads (the `.managed` marker for
 * interactive shells, the copy of a broken config.yaml, the fleet's records of what it owns),
 * and a mode or owner fix (`attrs`) changes nothing the running gateway sees: none restarts it.
 */
export function restartReasons(h: HermesSettings, earlier: readonly TaskPlan[]): string[] {
  const p = hermesPaths(h);
  const documents = new Set(Object.keys(h.documents).map((key) => documentPath(h, key)));
  const read = (change: ChangeOf<'file' | 'remove'>, task: string) =>
    documents.has(change.path) ||
    // A document the docs task removes because the inventory dropped it, wherever it lay.
    (task === 'docs' && change.kind === 'remove' && change.why === DROPPED) ||
    change.path === p.configYaml ||
    change.path === p.envFile ||
    change.path === p.authJson ||
    (isUnder(change.path, p.workingDirectory) && change.path !== p.workingDirectory);
  const reasons: string[] = [];
  for (const plan of earlier) {
    for (const change of plan.changes) {
      // A plugin linked anew (or its link gone): the gateway loads its plugins at start-up.
      if (plan.task === 'plugins' && (change.kind === 'symlink' || change.kind === 'remove')) {
        const name = posix.basename(change.path).replace(/^fleet-managed-/, '');
        reasons.push(`plugin ${name} ${change.kind === 'symlink' ? 'changed' : 'removed'}`);
        continue;
      }
      if ((change.kind === 'file' || change.kind === 'remove') && read(change, plan.task)) {
        const what = change.kind === 'file' ? 'changed' : 'removed';
        reasons.push(`${posix.basename(change.path)} ${what}`);
      }
    }
  }
  return reasons;
}
