import { describe, expect, it } from 'vitest';
import { PlanError } from '../src/plan/types.js';
import { file, makeFacts } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { CURRENT_GENERATION } from './lib/layout.js';
import { rollbackTask } from './rollback.js';

const ROOT_FILE = { mode: 0o600, user: 'root', group: 'root' };

function onGeneration(n: number | undefined) {
  return makeFacts({
    paths: {
      [CURRENT_GENERATION]: n === undefined ? { kind: 'absent' } : file(`${n}\n`, ROOT_FILE),
    },
  });
}

describe('the rollback task', () => {
  it('reads only the current generation', () => {
    expect(rollbackTask().facts(makeHost())).toEqual([
      { kind: 'path', path: CURRENT_GENERATION, content: true },
    ]);
  });

  it('restores, reloads, restarts, checks health (rolling back to the current on failure), records', () => {
    const host = makeHost();
    const changes = rollbackTask(2).plan(host, onGeneration(5), []);
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

  it('defaults to the generation before the current one', () => {
    const changes = rollbackTask().plan(makeHost(), onGeneration(3), []);
    expect(changes[0]).toEqual({
      kind: 'generation-restore',
      path: '/var/lib/hermes-fleet/generations',
      unit: 'hermes-agent.service',
    });
  });

  it('refuses a host without generations, or with none before the current', () => {
    expect(() => rollbackTask().plan(makeHost(), onGeneration(undefined), [])).toThrow(PlanError);
    expect(() => rollbackTask().plan(makeHost(), onGeneration(1), [])).toThrow(
      /there is none before it/,
    );
  });
});
