import type { Change } from '../plan/types.js';
import type { HostResult, RollbackReport, RunResult, TaskResult } from '../runner/types.js';
import { isSecret } from '../secret.js';
import { recordOf } from '../changes/index.js';
import { describeChange } from './change-kinds.js';
import type { JsonReport, ReportChange, ReportHost, ReportTask } from './json-schema.js';
import { recapStats } from './recap.js';

export interface JsonReportOptions {
  /** Include unified diffs of non-secret text files. */
  diff: boolean;
  startedAt?: Date;
}

/**
 * The `--json` report of a run (shape: json-schema.ts, docs/report-schema.md). Built field by
 * field from the results, never by copying a Change, so a Secret has no way in; a secret file
 * contributes at most its key names.
 */
export function toJsonReport(result: RunResult, options: JsonReportOptions): JsonReport {
  const report: JsonReport = {
    version: 1,
    mode: result.mode,
    ...(options.startedAt ? { startedAt: options.startedAt.toISOString() } : {}),
    durationMs: result.durationMs,
    exitCode: result.exitCode,
    interrupted: result.interrupted,
    recap: Object.fromEntries(result.hosts.map((h) => [h.host, recapStats(h)])),
    hosts: result.hosts.map((h) => reportHost(h, options)),
  };
  assertNoSecret(report);
  return report;
}

/** The report as JSON text; throws rather than write anything that is a Secret. */
export function renderJsonReport(result: RunResult, options: JsonReportOptions): string {
  return JSON.stringify(toJsonReport(result, options), refuseSecrets, 2);
}

/**
 * A JSON.stringify replacer that throws on a Secret. JSON.stringify calls toJSON (which gives
 * `***`) before the replacer sees a value, so the original is looked up on the holder.
 */
export function refuseSecrets(this: unknown, key: string, value: unknown): unknown {
  const original: unknown =
    typeof this === 'object' && this !== null ? (this as Record<string, unknown>)[key] : value;
  if (isSecret(original) || isSecret(value)) {
    throw new Error(`internal error: a secret reached the JSON report (at "${key}")`);
  }
  return value;
}

/** Walks a finished report: a Secret anywhere in it is a bug, stopped before it is written. */
function assertNoSecret(value: unknown, path = '$'): void {
  if (isSecret(value))
    throw new Error(`internal error: a secret reached the JSON report at ${path}`);
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) => {
      assertNoSecret(item, `${path}[${i}]`);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) assertNoSecret(item, `${path}.${key}`);
  }
}

function reportHost(host: HostResult, options: JsonReportOptions): ReportHost {
  return {
    host: host.host,
    status: host.status,
    durationMs: host.durationMs,
    ...(host.message !== undefined ? { message: host.message } : {}),
    ...(host.failedTask !== undefined ? { failedTask: host.failedTask } : {}),
    ...(host.rollback ? { rollback: reportRollback(host.rollback) } : {}),
    ...(host.cutOff !== undefined ? { cutOff: host.cutOff } : {}),
    ...(host.lockTakenOver !== undefined ? { lockTakenOver: host.lockTakenOver } : {}),
    ...(host.timeline ? { timeline: host.timeline.map((p) => ({ ...p })) } : {}),
    stats: {
      roundTrips: host.stats.roundTrips,
      channels: host.stats.channels,
      connections: host.stats.connections,
    },
    tasks: host.tasks.map((t) => reportTask(host.host, t, options)),
  };
}

function reportRollback(r: RollbackReport): NonNullable<ReportHost['rollback']> {
  if (r.outcome === 'not-rolled-back') {
    return { outcome: r.outcome, generation: null, reason: r.reason, cause: r.cause };
  }
  return {
    outcome: r.outcome,
    generation: r.generation ?? null,
    cause: r.cause,
    ...(r.outcome === 'rollback-failed' ? { message: r.message } : {}),
  };
}

function reportTask(host: string, task: TaskResult, options: JsonReportOptions): ReportTask {
  return {
    task: task.task,
    status: task.status,
    durationMs: task.durationMs,
    ...(task.message !== undefined ? { message: task.message } : {}),
    changes: task.changes.map((c) => reportChange(host, c, options)),
  };
}

/** A change in the JSON report: its kind, summary and path, then what its kind adds. */
export function reportChange(
  host: string,
  change: Change,
  options: { diff: boolean },
): ReportChange {
  return {
    kind: change.kind,
    summary: describeChange(change),
    ...('path' in change ? { path: change.path } : {}),
    ...recordOf(change).json(change, { host, diff: options.diff }),
  };
}
