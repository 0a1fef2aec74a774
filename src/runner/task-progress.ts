import type { Op } from '../apply/encode-ops.js';
import type { TaskName, TaskPlan } from '../plan/types.js';
import { skippedTask, type RunObserver, type TaskResult } from './types.js';

/**
 * Turns the apply batch's per-operation progress into per-task results, live: a task settles
 * (ok or changed) as soon as the batch is past its last operation, and the next one starts.
 * Tasks with nothing to do settle as soon as the batch reaches them.
 */
export class TaskProgress {
  /** By the plan's index: several instances run tasks of the same name. */
  private readonly lastOpOf = new Map<number, number>();
  private readonly settled = new Map<number, TaskResult>();
  /** The index in `plans` of the first task not yet settled. */
  private next = 0;
  private clock = Date.now();

  constructor(
    private readonly host: string,
    private readonly plans: readonly TaskPlan[],
    ops: readonly Op[],
    private readonly selected: ReadonlySet<TaskName>,
    private readonly observer: RunObserver,
  ) {
    ops.forEach((op, i) => {
      if (op.plan !== undefined) this.lastOpOf.set(op.plan, i);
    });
  }

  /** The batch finished operation `doneThrough` (-1: before the first). */
  advance(doneThrough: number): void {
    for (let plan = this.plans[this.next]; plan; plan = this.plans[this.next]) {
      const last = this.lastOpOf.get(this.next);
      if (last !== undefined && last > doneThrough) {
        this.observer.taskStarted?.(this.host, plan.task);
        return;
      }
      const now = Date.now();
      const result = taskResult(plan, this.selected, now - this.clock);
      this.clock = now;
      this.settled.set(this.next, result);
      this.observer.taskFinished?.(this.host, result);
      this.next++;
    }
  }

  /** The task the batch is in (or stopped in). */
  get current(): TaskPlan | undefined {
    return this.plans[this.next];
  }

  /**
   * Every task: settled ones as they settled, the rest from `unsettled`; those for which
   * `report` holds are also passed to the observer.
   */
  results(
    unsettled: (plan: TaskPlan, index: number) => TaskResult,
    report: (index: number) => boolean = () => true,
  ): TaskResult[] {
    return this.plans.map((plan, i) => {
      const done = this.settled.get(i);
      if (done) return done;
      const result = unsettled(plan, i);
      if (report(i)) this.observer.taskFinished?.(this.host, result);
      return result;
    });
  }

  /** The index in the plans of the task the batch is in (or stopped in). */
  get currentIndex(): number {
    return this.next;
  }

  /** Milliseconds since the last task settled: how long the current one has run. */
  elapsed(): number {
    return Date.now() - this.clock;
  }
}

/** A planned task's result: changed or ok, or skipped when --tags left it out. */
export function taskResult(
  plan: TaskPlan,
  selected: ReadonlySet<TaskName>,
  durationMs: number,
): TaskResult {
  const instance = plan.instance === undefined ? {} : { instance: plan.instance };
  if (!selected.has(plan.task)) {
    return { ...skippedTask(plan.task, 'not selected by tags'), ...instance };
  }
  return {
    task: plan.task,
    ...instance,
    status: plan.changes.length > 0 ? 'changed' : 'ok',
    durationMs,
    changes: plan.changes,
  };
}
