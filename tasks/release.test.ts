import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec, ReleaseArchive } from '../src/inventory/types.js';
import { describeChange } from '../src/report/change-kinds.js';
import { PlanError, type Change, type TaskPlan } from '../src/plan/types.js';
import {
  applyChanges,
  converge,
  dir,
  freshFacts,
  makeFacts,
  planAll,
} from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { releaseTask } from './release.js';

function archive(id: string, format: ReleaseArchive['format'] = 'gzip'): ReleaseArchive {
  return {
    path: `/local/${id}.tar.gz`,
    written: `dist/${id}.tar.gz`,
    sha256: `${id}${'0'.repeat(48)}`,
    id,
    size: 42_100_000,
    format,
    strip: 1,
    bytes: () => Promise.reject(new Error('not in a plan test')),
  };
}

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

function withRelease(id: string, keep = 3, format?: ReleaseArchive['format']) {
  const release = { archive: archive(id, format), root: '/opt/hermes-agent', keep };
  const hermes: Partial<HermesSettings> = {
    release,
    package: `/opt/hermes-agent/releases/${id}`,
  };
  return makeHost(hermes);
}

/** A host where the gzip tool exists (as on every Debian). */
function fresh(id: string, keep = 3, format?: ReleaseArchive['format']) {
  const host = withRelease(id, keep, format);
  const facts = freshFacts(host, {
    paths: { '/usr/bin/gzip': dir(), '/usr/bin/xz': dir() },
  });
  // freshFacts installs the package; a release host has nothing under the root yet.
  facts.paths.set(`/opt/hermes-agent/releases/${id}/bin/hermes`, { kind: 'absent' });
  return { host, facts };
}

/** The facts a real read would give for `host` (its new paths absent until now), over `facts`. */
function readFor(host: HostSpec, facts: HostFacts): HostFacts {
  const base = makeFacts({ host });
  for (const [key, fact] of facts.paths) base.paths.set(key, fact);
  for (const [key, fact] of facts.units) base.units.set(key, fact);
  for (const [key, fact] of facts.users) base.users.set(key, fact);
  for (const [key, fact] of facts.groups) base.groups.set(key, fact);
  for (const [key, fact] of facts.dirEntries ?? []) base.dirEntries?.set(key, fact);
  return base;
}

const kinds = (changes: readonly Change[]) => changes.map((c) => c.kind);
const byTask = (plans: readonly TaskPlan[], task: string) =>
  plans.find((p) => p.task === task)?.changes ?? [];

describe('release task', () => {
  it('on a fresh host: creates the root, uploads, switches; planning does not need the release there', () => {
    const { host, facts } = fresh(A);
    const plans = planAll(host, facts);
    const release = byTask(plans, 'release');
    expect(kinds(release)).toEqual(['dir', 'dir', 'release-unpack', 'release-switch']);
    expect(release.map(describeChange)).toEqual([
      'create directory /opt/hermes-agent (0755 root:root)',
      'create directory /opt/hermes-agent/releases (0755 root:root)',
      `upload release ${A} (42.1 MB)`,
      `switch current: (none) -> ${A}`,
    ]);
    const unit = byTask(plans, 'service').find((c) => c.kind === 'file');
    expect(unit?.kind === 'file' && 'text' in unit.body && unit.body.text).toContain(
      `ExecStart=/opt/hermes-agent/releases/${A}/bin/hermes gateway`,
    );
  });

  it('is a no-op once converged: no upload, no switch', () => {
    const { host, facts } = fresh(A);
    const after = converge(host, facts);
    expect(planAll(host, after).flatMap((p) => p.changes)).toEqual([]);
  });

  it('an upgrade switches current and restarts for the release, naming both ids', () => {
    const { host, facts } = fresh(A);
    const onA = converge(host, facts);
    const plans = planAll(withRelease(B), readFor(withRelease(B), onA));
    expect(byTask(plans, 'release').map(describeChange)).toEqual([
      `upload release ${B} (42.1 MB)`,
      `switch current: ${A} -> ${B}`,
    ]);
    const restart = byTask(plans, 'service').find(
      (c) => c.kind === 'systemd' && c.action === 'restart',
    );
    expect(restart && describeChange(restart)).toContain(`release ${A} -> ${B}`);
  });

  it('prunes beyond keep after the health check, never the current release', () => {
    let { host, facts } = fresh(A, 1);
    facts = converge(host, facts);
    const ids = [B, 'cccccccccccccccc', 'dddddddddddddddd'];
    for (const id of ids) {
      host = withRelease(id, 1);
      facts = converge(host, readFor(host, facts));
    }
    const listed = facts.dirEntries?.get('/opt/hermes-agent/releases')?.map((e) => e.name);
    // keep: 1 besides the current one: the one switched to before it.
    expect(listed?.sort()).toEqual(['cccccccccccccccc', 'dddddddddddddddd']);
    // The removals ran after the restart's health check, in the service task's plan.
    host = withRelease('eeeeeeeeeeeeeeee', 1);
    const service = byTask(planAll(host, readFor(host, facts)), 'service');
    const waited = service.findIndex((c) => c.kind === 'wait-healthy');
    const removed = service.findIndex((c) => c.kind === 'release-remove');
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(removed).toBeGreaterThan(waited);
    expect(describeChange(service[removed] as Change)).toBe(
      'remove /opt/hermes-agent/releases/cccccccccccccccc (beyond keep: 1)',
    );
  });

  it('without a switch in this run, prunes at once (keep lowered)', () => {
    let { host, facts } = fresh(A, 3);
    facts = converge(host, facts);
    host = withRelease(B, 3);
    facts = converge(host, readFor(host, facts));
    const plans = planAll(withRelease(B, 0), facts);
    expect(byTask(plans, 'release').map(describeChange)).toEqual([
      `remove /opt/hermes-agent/releases/${A} (beyond keep: 0)`,
    ]);
  });

  it('never prunes a release that a kept generation names', () => {
    let { host, facts } = fresh(A, 3);
    facts = converge(host, facts);
    host = withRelease(B, 3);
    facts = converge(host, readFor(host, facts));
    facts.generations = new Map([
      ['/var/lib/hermes-fleet/generations', [{ number: 1, release: A }]],
    ]);
    expect(byTask(planAll(withRelease(B, 0), facts), 'release')).toEqual([]);
  });

  it('removes what an interrupted upload left', () => {
    const { host, facts } = fresh(A);
    const after = converge(host, facts);
    after.dirEntries?.set('/opt/hermes-agent/releases', [
      ...(after.dirEntries.get('/opt/hermes-agent/releases') ?? []),
      { name: '.hermes-fleet.Ab12Cd', mtimeMs: 1 },
    ]);
    expect(releaseTask.plan(host, after, []).map(describeChange)).toEqual(
      ['/opt/hermes-agent/releases/.hermes-fleet.Ab12Cd'].map(
        (p) => `remove ${p} (left by an interrupted upload)`,
      ),
    );
  });

  it('fails the host before anything is written when it cannot unpack the format', () => {
    const { host, facts } = fresh(A, 3, 'zstd');
    expect(() => planAll(host, facts)).toThrow(PlanError);
    expect(() => planAll(host, facts)).toThrow(/no zstd; install the zstd package/);
  });

  it('refuses a release root others can write, and a current that is not a link', () => {
    const { host, facts } = fresh(A);
    const open: HostFacts = applyChanges(facts, []);
    open.paths.set('/opt/hermes-agent', dir({ mode: 0o777, user: 'root', group: 'root' }));
    expect(() => releaseTask.plan(host, open, [])).toThrow(/writable by others than root/);
    const owned: HostFacts = applyChanges(facts, []);
    const theirs = dir({ mode: 0o755, user: 'hermes', group: 'hermes' });
    if (theirs.kind === 'dir') owned.paths.set('/opt/hermes-agent', { ...theirs, uid: 999 });
    expect(() => releaseTask.plan(host, owned, [])).toThrow(/writable by others than root/);
    const current: HostFacts = applyChanges(facts, []);
    current.paths.set(
      '/opt/hermes-agent/current',
      dir({ mode: 0o755, user: 'root', group: 'root' }),
    );
    expect(() => releaseTask.plan(host, current, [])).toThrow(/not the link hermes-fleet switches/);
  });

  it('refuses a release directory that is not whole', () => {
    const { host, facts } = fresh(A);
    const after = converge(host, facts);
    after.paths.set(`/opt/hermes-agent/releases/${A}/bin/hermes`, { kind: 'absent' });
    expect(() => releaseTask.plan(host, after, [])).toThrow(/not a whole release/);
  });

  it('plans nothing without hermes.release', () => {
    const host = makeHost();
    expect(releaseTask.facts(host)).toEqual([]);
    expect(releaseTask.plan(host, freshFacts(host), [])).toEqual([]);
  });
});
