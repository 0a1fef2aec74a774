import { describe, expect, it } from 'vitest';
import type { DirEntry, GenerationEntry, PathFact } from '../src/facts/types.js';
import { PlanError } from '../src/plan/types.js';
import { file, makeFacts } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { CURRENT_GENERATION, GENERATIONS_DIR } from './lib/layout.js';
import { rollbackTask } from './rollback.js';

const ROOT_FILE = { mode: 0o600, user: 'root', group: 'root' };
const V1 = '1111111111111111';
const V2 = '2222222222222222';

function onGeneration(
  n: number | undefined,
  kept: GenerationEntry[] = n === undefined ? [] : [{ number: n }],
  extra: { paths?: Record<string, PathFact>; releases?: DirEntry[] } = {},
) {
  const facts = makeFacts({
    paths: {
      [CURRENT_GENERATION]: n === undefined ? { kind: 'absent' } : file(`${n}\n`, ROOT_FILE),
      ...extra.paths,
    },
  });
  facts.generations = new Map([[GENERATIONS_DIR, kept]]);
  if (extra.releases) {
    facts.dirEntries = new Map([['/opt/hermes-agent/releases', extra.releases]]);
  }
  return facts;
}

const gens = (...numbers: number[]) => numbers.map((number) => ({ number }));

function releaseHost() {
  const host = makeHost();
  const archive = {
    path: '/tmp/a.tar',
    written: 'a.tar',
    size: 1,
    sha256: `${V2}${'0'.repeat(48)}`,
    id: V2,
    format: 'tar' as const,
    strip: 0,
    bytes: () => Promise.resolve(Buffer.alloc(0)),
  };
  host.hermes.release = { archive, root: '/opt/hermes-agent', keep: 3 };
  return host;
}

const link = (id: string): PathFact => ({
  kind: 'symlink',
  target: `releases/${id}`,
  mode: 0o777,
  uid: 0,
  gid: 0,
  user: 'root',
  group: 'root',
  mtimeMs: 0,
  size: 0,
});

describe('the rollback task', () => {
  it('reads the current generation and the generations kept', () => {
    expect(rollbackTask().facts(makeHost())).toEqual([
      { kind: 'path', path: CURRENT_GENERATION, content: true },
      { kind: 'generations', dir: GENERATIONS_DIR },
    ]);
  });

  it('restores, reloads, restarts, checks health (rolling back to the current on failure), records', () => {
    const host = makeHost();
    const changes = rollbackTask(2).plan(host, onGeneration(5, gens(2, 3, 4, 5)), []);
    expect(changes.map((c) => (c.kind === 'systemd' ? c.action : c.kind))).toEqual([
      'generation-restore',
      'daemon-reload',
      'restart',
      'wait-healthy',
      'generation',
      'restart-pending',
    ]);
    expect(changes[0]).toMatchObject({ number: 2 });
    expect(changes[3]).toMatchObject({ rollback: true, generation: 5 });
  });

  it('defaults to the newest generation kept before the current one', () => {
    const changes = rollbackTask().plan(makeHost(), onGeneration(4, gens(1, 2, 4)), []);
    expect(changes[0]).toEqual({
      kind: 'generation-restore',
      path: '/var/lib/hermes-fleet/generations',
      number: 2,
      unit: 'hermes-agent.service',
    });
  });

  it('refuses a host without generations, or with none before the current', () => {
    expect(() => rollbackTask().plan(makeHost(), onGeneration(undefined), [])).toThrow(PlanError);
    expect(() => rollbackTask().plan(makeHost(), onGeneration(1), [])).toThrow(
      /there is none before it/,
    );
    expect(() => rollbackTask().plan(makeHost(), onGeneration(3, gens(3)), [])).toThrow(
      /no generation before 3 is kept/,
    );
  });

  it('refuses --to a generation that is not kept', () => {
    expect(() => rollbackTask(1).plan(makeHost(), onGeneration(3, gens(2, 3)), [])).toThrow(
      /generation 1 is not kept on this host \(kept: 2, 3/,
    );
  });

  it('with releases, puts `current` back to the release the generation ran, first', () => {
    const host = releaseHost();
    const kept = [
      { number: 1, release: V1 },
      { number: 2, release: V2 },
    ];
    const facts = onGeneration(2, kept, {
      paths: { '/opt/hermes-agent/current': link(V2) },
      releases: [
        { name: V1, mtimeMs: 1 },
        { name: V2, mtimeMs: 2 },
      ],
    });
    expect(rollbackTask().facts(host)).toContainEqual({
      kind: 'dir-entries',
      dir: '/opt/hermes-agent/releases',
    });
    const changes = rollbackTask().plan(host, facts, []);
    expect(changes[0]).toMatchObject({
      kind: 'release-switch',
      path: '/opt/hermes-agent/current',
      target: `releases/${V1}`,
      from: V2,
      to: V1,
    });
    expect(changes[1]).toMatchObject({ kind: 'generation-restore', number: 1 });
  });

  it('switches nothing when `current` already names that release', () => {
    const host = releaseHost();
    const facts = onGeneration(2, [{ number: 1, release: V1 }, { number: 2 }], {
      paths: { '/opt/hermes-agent/current': link(V1) },
      releases: [{ name: V1, mtimeMs: 1 }],
    });
    expect(rollbackTask().plan(host, facts, [])[0]).toMatchObject({ kind: 'generation-restore' });
  });

  it('refuses, before anything changes, a generation whose release is no longer on the host', () => {
    const host = releaseHost();
    const facts = onGeneration(
      2,
      [
        { number: 1, release: V1 },
        { number: 2, release: V2 },
      ],
      { paths: { '/opt/hermes-agent/current': link(V2) }, releases: [{ name: V2, mtimeMs: 2 }] },
    );
    expect(() => rollbackTask().plan(host, facts, [])).toThrow(
      new RegExp(`generation 1 runs release ${V1}, which is no longer on this host`),
    );
  });
});
