import type { RunResult } from '../runner/types.js';
import { toJsonReport } from './json.js';

/**
 * `--log FILE`: one JSON line per host and task (and one per host without tasks, e.g. an
 * unreachable one), for audits. Built from the JSON report, so it carries no secret either.
 */
export function toLogLines(result: RunResult, startedAt: Date): string {
  const report = toJsonReport(result, { diff: false, startedAt });
  const time = startedAt.toISOString();
  const lines: string[] = [];
  for (const host of report.hosts) {
    if (host.tasks.length === 0) {
      lines.push(
        JSON.stringify({
          time,
          mode: report.mode,
          host: host.host,
          task: null,
          status: host.status,
          durationMs: host.durationMs,
          ...(host.message !== undefined ? { message: host.message } : {}),
          ...(host.rollback ? { rollback: host.rollback } : {}),
        }),
      );
    }
    for (const task of host.tasks) {
      lines.push(
        JSON.stringify({
          time,
          mode: report.mode,
          host: host.host,
          task: task.task,
          status: task.status,
          durationMs: task.durationMs,
          changes: task.changes,
          ...(task.message !== undefined ? { message: task.message } : {}),
          ...(task.status === 'failed' && host.rollback ? { rollback: host.rollback } : {}),
        }),
      );
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}
