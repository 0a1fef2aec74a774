import type { Op } from '../apply/encode-ops.js';
import type { PhaseName, RunObserver, TimelinePhase } from './types.js';

/** The operation's own phase, when it is one: a restart or a health wait. */
function opPhase(op: Op | undefined): PhaseName | undefined {
  const change = op?.change;
  if (change?.kind === 'wait-healthy') return 'health';
  if (change?.kind === 'systemd' && (change.action === 'restart' || change.action === 'start')) {
    return 'restart';
  }
  return undefined;
}

/**
 * Records one host's timeline from the events the runner already sends its observer (the host
 * phases, and the batch's per-operation progress): a few numbers per host, no round trip, no
 * work on the host. `now` is injectable for the tests.
 */
export class HostTimeline {
  private readonly phases: TimelinePhase[] = [];
  private open: { phase: PhaseName; startMs: number } | undefined;
  private ops: readonly Op[] = [];
  /** When the batch's last completed operation ended: where the next one began. */
  private lastOpEnd = 0;
  /** How many operations completed: the next one is the one in flight. */
  private done = 0;

  constructor(
    private readonly origin: number,
    private readonly now: () => number = Date.now,
  ) {}

  private at(): number {
    return Math.max(0, this.now() - this.origin);
  }

  private close(endMs: number): void {
    if (this.open) this.phases.push({ ...this.open, endMs: Math.max(endMs, this.open.startMs) });
    this.open = undefined;
  }

  private start(phase: PhaseName, startMs: number): void {
    this.close(startMs);
    this.open = { phase, startMs };
  }

  /** The span since the last operation ended was operation `op`: its own phase, if it has one. */
  private settle(op: Op | undefined, now: number, then: PhaseName): void {
    const phase = opPhase(op);
    if (phase !== undefined) {
      this.start(phase, this.lastOpEnd);
      this.start(then, now);
    } else if (then !== 'apply') {
      this.start(then, now);
    }
    this.lastOpEnd = now;
  }

  /** A host phase from the runner: `connecting`, `reading facts`, `applying`. */
  hostPhase(phase: string): void {
    const now = this.at();
    if (phase === 'connecting') this.start('connect', now);
    else if (phase === 'reading facts') this.start('read', now);
    else if (phase === 'applying') this.start('apply', now);
  }

  /** The batch is sent: its operations, in order. */
  batchStarted(ops: readonly Op[]): void {
    this.ops = ops;
    this.done = 0;
    this.lastOpEnd = this.at();
  }

  /** Operation `index` of the batch completed. */
  opDone(index: number): void {
    this.done = index + 1;
    this.settle(this.ops[index], this.at(), 'apply');
  }

  /** The batch began to put the host back: the operation in flight (the next one) failed. */
  rollbackBegan(): void {
    this.settle(this.ops[this.done], this.at(), 'rollback');
  }

  /** Operation `index` failed (after the rollback, when there was one). */
  opFailed(index: number): void {
    if (this.open?.phase === 'rollback') return;
    this.settle(this.ops[index], this.at(), 'apply');
  }

  /** The batch ended. */
  batchEnded(): void {
    this.close(this.at());
  }

  /** The phases so far (the open one ends now); an empty apply tail left out. */
  result(): TimelinePhase[] {
    this.close(this.at());
    return this.phases.filter((p) => p.endMs > p.startMs || p.phase !== 'apply');
  }

  /** The observer, with this timeline listening to the host's events first. */
  watch(observer: RunObserver): RunObserver {
    return {
      ...observer,
      hostPhase: (host, phase) => {
        this.hostPhase(phase);
        observer.hostPhase?.(host, phase);
      },
      batchStarted: (host, ops) => {
        this.batchStarted(ops);
        observer.batchStarted?.(host, ops);
      },
      opDone: (host, index) => {
        this.opDone(index);
        observer.opDone?.(host, index);
      },
      opFailed: (host, index) => {
        this.opFailed(index);
        observer.opFailed?.(host, index);
      },
      rollbackBegan: (host) => {
        this.rollbackBegan();
        observer.rollbackBegan?.(host);
      },
      batchEnded: (host) => {
        this.batchEnded();
        observer.batchEnded?.(host);
      },
    };
  }
}
