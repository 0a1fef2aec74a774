import type { Attrs, DirEntry, FactRequest, HostFacts, PathFact } from '../src/facts/types.js';
import {
  allInstances,
  isDownload,
  type HermesSettings,
  type HostSpec,
  type ReleaseSettings,
} from '../src/inventory/types.js';
import { DECOMPRESSOR } from '../src/inventory/release-archive.js';
import type { Task } from '../src/plan/task.js';
import { PlanError, type Change, type TaskPlan } from '../src/plan/types.js';
import { pathFact } from './lib/facts-access.js';
import { generationsDir } from './lib/layout.js';

/** Releases are root's: no group or other write bit, never the service account's. */
export const RELEASE_DIR_ATTRS: Attrs = { mode: 0o755, user: 'root', group: 'root' };

/** A release directory's name: the id, 16 hex digits of the archive's sha256. */
const RELEASE_ID = /^[0-9a-f]{16}$/;
/** What apply.sh's mktemp makes in releases/ while an upload is unpacked. */
const UPLOAD_TEMP = /^\.hermes-fleet\.[A-Za-z0-9.]+$/;

export interface ReleasePaths {
  root: string;
  releases: string;
  current: string;
  /** `<root>/releases/<id>` */
  dir: (id: string) => string;
}

export function releasePaths(release: ReleaseSettings): ReleasePaths {
  const { root } = release;
  return {
    root,
    releases: `${root}/releases`,
    current: `${root}/current`,
    dir: (id) => `${root}/releases/${id}`,
  };
}

/** The id `current` points at (`releases/<id>`), if it is such a link. */
export function currentRelease(fact: PathFact): string | undefined {
  if (fact.kind !== 'symlink') return undefined;
  const id = fact.target.replace(/^(?:.*\/)?releases\//, '').replace(/\/$/, '');
  return RELEASE_ID.test(id) ? id : undefined;
}

/** Where the decompressor may be: one of these on every distribution we deploy to. */
function decompressorPaths(program: string): string[] {
  return [`/usr/bin/${program}`, `/bin/${program}`];
}

/** The downloaders a host may have for a release `url` (apply.sh takes curl first). */
const FETCHERS = ['curl', 'wget'];
const fetcherPaths = (): string[] => FETCHERS.flatMap(decompressorPaths);

/**
 * The release root and releases/ must be root's directories that nobody else can write: a
 * release there is run by the gateway and, through the unit, started by systemd.
 */
function checkRootDir(path: string, fact: PathFact): void {
  if (fact.kind === 'absent') return;
  const fix = `release.root must be a directory only root can write; fix ${path} (chown root:root, chmod go-w) or choose another root`;
  if (fact.kind !== 'dir') throw new PlanError(`${path} is not a directory: ${fix}`);
  if (fact.uid !== 0 || (fact.mode & 0o022) !== 0) {
    throw new PlanError(`${path} is writable by others than root: ${fix}`);
  }
}

function entries(facts: HostFacts, dir: string): DirEntry[] {
  return facts.dirEntries?.get(dir) ?? [];
}

/**
 * The releases that the generations kept on the host name: a rollback may go back to them. Every
 * instance's generations that were read count (the release task reads them all: instances may
 * share a release root).
 */
export function generationReleases(facts: HostFacts): Set<string> {
  const kept = [...(facts.generations?.values() ?? [])].flat();
  return new Set(kept.flatMap((g) => (g.release !== undefined ? [g.release] : [])));
}

/**
 * The releases beyond `keep` once `current` is `currentId`: every release but the current one,
 * newest switch (mtime) first, the first `keep` kept; never one that a kept generation names.
 */
export function releasesToPrune(
  release: ReleaseSettings,
  facts: HostFacts,
  currentId: string,
): Change[] {
  const p = releasePaths(release);
  const named = generationReleases(facts);
  return entries(facts, p.releases)
    .filter((e) => RELEASE_ID.test(e.name) && e.name !== currentId)
    .sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name))
    .slice(release.keep)
    .filter((e) => !named.has(e.name))
    .map((e) => ({
      kind: 'release-remove',
      path: p.dir(e.name),
      why: `beyond keep: ${release.keep}`,
    }));
}

function planRelease(release: ReleaseSettings, facts: HostFacts): Change[] {
  const p = releasePaths(release);
  const { archive } = release;
  const changes: Change[] = [];
  for (const dir of [p.root, p.releases]) {
    const fact = pathFact(facts, dir);
    checkRootDir(dir, fact);
    if (fact.kind === 'absent') {
      changes.push({ kind: 'dir', path: dir, attrs: RELEASE_DIR_ATTRS, before: fact });
    }
  }
  // Uploads a killed run left behind.
  for (const e of entries(facts, p.releases)) {
    if (UPLOAD_TEMP.test(e.name)) {
      changes.push({
        kind: 'release-remove',
        path: `${p.releases}/${e.name}`,
        why: 'left by an interrupted upload',
      });
    }
  }
  const dir = p.dir(archive.id);
  const present = pathFact(facts, dir);
  if (present.kind === 'absent') {
    const tool = DECOMPRESSOR[archive.format];
    if (
      tool &&
      !decompressorPaths(tool.program).some((path) => pathFact(facts, path).kind !== 'absent')
    ) {
      throw new PlanError(
        `cannot unpack ${archive.written} on this host: it has no ${tool.program}; install the ${tool.pkg} package`,
      );
    }
    if (isDownload(archive) && !fetcherPaths().some((p) => pathFact(facts, p).kind !== 'absent')) {
      throw new PlanError(
        `cannot download ${archive.written} on this host: it has neither curl nor wget; install the curl or wget package (or run with --release-from-controller to upload it)`,
      );
    }
    changes.push({ kind: 'release-unpack', path: dir, archive });
  } else {
    const bin = pathFact(facts, `${dir}/bin/hermes`);
    const whole =
      present.kind === 'dir' &&
      (bin.kind === 'symlink' || (bin.kind === 'file' && (bin.mode & 0o111) !== 0));
    if (!whole) {
      throw new PlanError(
        `${dir} is not a whole release (no executable bin/hermes): remove it and run again to upload it anew`,
      );
    }
  }
  const current = pathFact(facts, p.current);
  const from = currentRelease(current);
  if (from !== archive.id) {
    if (current.kind !== 'absent' && current.kind !== 'symlink') {
      throw new PlanError(
        `${p.current} is a ${current.kind === 'dir' ? 'directory' : 'file'}, not the link hermes-fleet switches: move it away`,
      );
    }
    changes.push({
      kind: 'release-switch',
      path: p.current,
      target: `releases/${archive.id}`,
      before: current,
      ...(from ? { from } : {}),
      to: archive.id,
    });
  } else {
    // No switch in this run: pruning needs no health check to wait for.
    changes.push(...releasesToPrune(release, facts, archive.id));
  }
  return changes;
}

/**
 * After a healthy switch, the releases beyond `keep` go: appended after the service task's
 * health check, so a switch that fails it keeps every release it had. A switch with no health
 * check after it in this run (the service task not selected) prunes nothing.
 */
function amendPrune(h: HermesSettings, facts: HostFacts, plans: readonly TaskPlan[]): TaskPlan[] {
  const release = h.release;
  if (!release) return [...plans];
  const switched = plans
    .find((plan) => plan.task === 'release')
    ?.changes.some((c) => c.kind === 'release-switch');
  if (!switched) return [...plans];
  const serviceAt = plans.findIndex(
    (plan) => plan.task === 'service' && plan.changes.some((c) => c.kind === 'wait-healthy'),
  );
  if (serviceAt < 0) return [...plans];
  const prune = releasesToPrune(release, facts, release.archive.id);
  return plans.map((plan, i) =>
    i === serviceAt ? { ...plan, changes: [...plan.changes, ...prune] } : plan,
  );
}

/**
 * hermes-agent itself, from a release archive (releases.md): unpacked into
 * `<root>/releases/<id>` when the host lacks it (the only upload), `current` switched to it,
 * and old releases pruned after a healthy switch. The unit runs the release's own path (the
 * package is derived from it), so the service task sees a switch as a unit change. Nothing to
 * do without `hermes.release`.
 */
export const releaseTask: Task = {
  name: 'release',

  facts(host: HostSpec): FactRequest[] {
    const release = host.hermes.release;
    if (!release) return [];
    const p = releasePaths(release);
    const dir = p.dir(release.archive.id);
    const tool = DECOMPRESSOR[release.archive.format];
    return [
      { kind: 'path', path: p.root },
      { kind: 'path', path: p.releases },
      { kind: 'path', path: p.current },
      { kind: 'path', path: dir },
      { kind: 'path', path: `${dir}/bin/hermes` },
      { kind: 'dir-entries', dir: p.releases },
      ...allInstances(host).map((h): FactRequest => ({
        kind: 'generations',
        dir: generationsDir(h),
      })),
      ...(tool ? decompressorPaths(tool.program) : [])
        .concat(isDownload(release.archive) ? fetcherPaths() : [])
        .map((path): FactRequest => ({ kind: 'path', path })),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const release = host.hermes.release;
    return release ? planRelease(release, facts) : [];
  },

  amend(host: HostSpec, facts: HostFacts, plans: readonly TaskPlan[]): TaskPlan[] {
    return amendPrune(host.hermes, facts, plans);
  },
};
