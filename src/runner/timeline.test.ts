import { describe, expect, it } from 'vitest';
import type { Op } from '../apply/encode-ops.js';
import type { Change } from '../plan/types.js';
import { HostTimeline } from './timeline.js';

const op = (change?: Change): Op => ({
  task: 'service',
  name: change?.kind ?? 'lock',
  fields: {},
  ...(change ? { change } : {}),
});
const lock = op();
const write = op({ kind: 'remove', path: '/x', before: { kind: 'absent' } });
const restart = op({ kind: 'systemd', action: 'restart', unit: 'hermes.service' });
const health = op({
  kind: 'wait-healthy',
  unit: 'hermes.service',
  seconds: 10,
  user: 'hermes',
});

/** A timeline on a clock the test moves: `at(ms)` sets the time, from a run that began at 1000. */
function clocked() {
  let now = 1000;
  const timeline = new HostTimeline(1000, () => now);
  return { timeline, at: (ms: number) => (now = 1000 + ms) };
}

describe('HostTimeline', () => {
  it('a host in sync: connect and read, nothing else', () => {
    const { timeline, at } = clocked();
    at(5);
    timeline.hostPhase('connecting');
    at(40);
    timeline.hostPhase('reading facts');
    at(90);
    expect(timeline.result()).toEqual([
      { phase: 'connect', startMs: 5, endMs: 40 },
      { phase: 'read', startMs: 40, endMs: 90 },
    ]);
  });

  it('a converge: the restart and the health wait are their own phases, the lock is apply', () => {
    const { timeline, at } = clocked();
    timeline.hostPhase('connecting');
    at(10);
    timeline.hostPhase('reading facts');
    at(20);
    timeline.hostPhase('applying');
    timeline.batchStarted([lock, write, restart, health, write]);
    at(25);
    timeline.opDone(0);
    at(30);
    timeline.opDone(1);
    at(50);
    timeline.opDone(2);
    at(80);
    timeline.opDone(3);
    at(85);
    timeline.opDone(4);
    timeline.batchEnded();
    expect(timeline.result()).toEqual([
      { phase: 'connect', startMs: 0, endMs: 10 },
      { phase: 'read', startMs: 10, endMs: 20 },
      { phase: 'apply', startMs: 20, endMs: 30 },
      { phase: 'restart', startMs: 30, endMs: 50 },
      { phase: 'health', startMs: 50, endMs: 80 },
      { phase: 'apply', startMs: 80, endMs: 85 },
    ]);
  });

  it('a failed health check: the wait up to the rollback, then the rollback to the end', () => {
    const { timeline, at } = clocked();
    timeline.hostPhase('applying');
    timeline.batchStarted([lock, restart, health]);
    at(10);
    timeline.opDone(0);
    at(20);
    timeline.opDone(1);
    at(60);
    timeline.rollbackBegan();
    at(75);
    timeline.opFailed(2);
    timeline.batchEnded();
    expect(timeline.result()).toEqual([
      { phase: 'apply', startMs: 0, endMs: 10 },
      { phase: 'restart', startMs: 10, endMs: 20 },
      { phase: 'health', startMs: 20, endMs: 60 },
      { phase: 'rollback', startMs: 60, endMs: 75 },
    ]);
  });

  it('a failed health check with nothing to roll back to: the wait ends at the failure', () => {
    const { timeline, at } = clocked();
    timeline.hostPhase('applying');
    timeline.batchStarted([lock, health]);
    at(10);
    timeline.opDone(0);
    at(40);
    timeline.opFailed(1);
    timeline.batchEnded();
    expect(timeline.result()).toEqual([
      { phase: 'apply', startMs: 0, endMs: 10 },
      { phase: 'health', startMs: 10, endMs: 40 },
    ]);
  });

  it('passes every event on to the observer it wraps', () => {
    const { timeline } = clocked();
    const seen: string[] = [];
    const observer = timeline.watch({
      hostPhase: (h, p) => seen.push(`${h} ${p}`),
      opDone: (h, i) => seen.push(`${h} done ${i}`),
    });
    observer.hostPhase?.('web1', 'applying');
    observer.batchStarted?.('web1', [lock]);
    observer.opDone?.('web1', 0);
    expect(seen).toEqual(['web1 applying', 'web1 done 0']);
  });
});
