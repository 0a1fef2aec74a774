import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import type { Task } from '../src/plan/task.js';
import { PlanError, type Change } from '../src/plan/types.js';
import { pathFact } from './lib/facts-access.js';
import { currentGeneration, generationFacts, recordGeneration } from './lib/generations.js';
import { healthCheck } from './lib/health-check.js';
import { generationsDir, unitName } from './lib/layout.js';
import { clearRestartPending } from './lib/restart-pending.js';
import { currentRelease, releasePaths } from './release.js';

/**
 * The generation to go back to: `to`, or the newest kept below the current one. Refused when it
 * is not kept, so nothing changes on a host that cannot be rolled back.
 */
function targetGeneration(
  h: HermesSettings,
  facts: HostFacts,
  current: number,
  to: number | undefined,
): number {
  const kept = (facts.generations?.get(generationsDir(h)) ?? []).map((g) => g.number);
  if (to !== undefined) {
    if (!kept.includes(to)) {
      throw new PlanError(
        `generation ${to} is not kept on this host (kept: ${kept.join(', ') || 'none'}; see hermes-fleet generations)`,
      );
    }
    return to;
  }
  const before = kept.filter((n) => n < current).sort((a, b) => b - a)[0];
  if (before === undefined) {
    throw new PlanError(
      `no generation before ${current} is kept on this host (see hermes-fleet generations)`,
    );
  }
  return before;
}

/**
 * With releases, `current` goes back to the release the generation ran, so that the link, the
 * restored unit, the running gateway, `status` and the generation recorded next all name the
 * same release. A release pruned since is refused before anything changes.
 */
function releaseBack(host: HostSpec, facts: HostFacts, target: number): Change[] {
  const release = host.hermes.release;
  if (!release) return [];
  const id = facts.generations
    ?.get(generationsDir(host.hermes))
    ?.find((g) => g.number === target)?.release;
  if (id === undefined) return [];
  const p = releasePaths(release);
  const present = (facts.dirEntries?.get(p.releases) ?? []).some((e) => e.name === id);
  if (!present) {
    throw new PlanError(
      `generation ${target} runs release ${id}, which is no longer on this host (${p.dir(id)} was pruned or removed): not rolling back; deploy that release again, or choose another generation with --to`,
    );
  }
  const before = pathFact(facts, p.current);
  const from = currentRelease(before);
  if (from === id) return [];
  return [
    {
      kind: 'release-switch',
      path: p.current,
      target: `releases/${id}`,
      before,
      ...(from ? { from } : {}),
      to: id,
    },
  ];
}

/**
 * `hermes-fleet rollback`'s one task: put generation `to` (default: the one before the current)
 * back with the run's atomic writes (the release link too), reload systemd, restart, check
 * health (a failure puts back the state before the rollback), and record the result as a new
 * generation. It reads the generations kept and, with releases, the link and the releases: the
 * files come from the host's own copies.
 */
export function rollbackTask(to?: number): Task {
  return {
    name: 'rollback',

    facts(host: HostSpec): FactRequest[] {
      const release = host.hermes.release;
      const p = release ? releasePaths(release) : undefined;
      return [
        ...generationFacts(host.hermes),
        { kind: 'generations', dir: generationsDir(host.hermes) },
        ...(p
          ? [
              { kind: 'path', path: p.current } as const,
              { kind: 'dir-entries', dir: p.releases } as const,
            ]
          : []),
      ];
    },

    plan(host: HostSpec, facts: HostFacts): Change[] {
      const h = host.hermes;
      const unit = unitName(h);
      const current = currentGeneration(h, facts);
      if (current === undefined) {
        throw new PlanError(
          'no generation is recorded on this host: nothing to roll back to (a run that passes its health check records one)',
        );
      }
      if (to === undefined && current === 1) {
        throw new PlanError('the host is on generation 1: there is none before it');
      }
      const target = targetGeneration(h, facts, current, to);
      const which = to === undefined ? `the generation before ${current}` : `generation ${to}`;
      return [
        ...releaseBack(host, facts, target),
        {
          kind: 'generation-restore',
          path: generationsDir(h),
          number: target,
          unit,
        },
        { kind: 'systemd', action: 'daemon-reload', unit, reason: `rollback to ${which}` },
        { kind: 'systemd', action: 'restart', unit, reason: `rollback to ${which}` },
        healthCheck(h, { possible: true, generation: current }),
        recordGeneration(h),
        clearRestartPending(h),
      ];
    },
  };
}
