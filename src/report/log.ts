import type { RunResult } from '../runner/types.js';
import { toJsonReport } from './json.js';

/** What a run's every log line says about the run (docs/report-schema.md, "--log lines"). */
export interface RunContext {
  /** run, restart, rollback. */
  command: string;
  /** The controller's user@host. */
  who: string;
  /** Each inventory file's name and sha256, never its content. */
  inventory: readonly { file: string; sha256: string }[];
}

/**
 * `--log FILE`: one JSON line per host and task (and one per host without tasks, e.g. an
 * unreachable one), for audits. Built from the JSON report, so it carries no secret either.
 */
export function toLogLines(
  result: RunResult,
  startedAt: Date,
  options: { diff?: boolean; context?: RunContext } = {},
): string {
  const report = toJsonReport(result, { diff: options.diff === true, startedAt });
  const time = startedAt.toISOString();
  const context = options.context;
  const run = context
    ? {
        run: {
          command: context.command,
          exitCode: result.exitCode,
          durationMs: result.durationMs,
          interrupted: result.interrupted,
          who: context.who,
          inventory: context.inventory.map((i) => ({ file: i.file, sha256: i.sha256 })),
        },
      }
    : {};
  const lines: string[] = [];
  for (const host of report.hosts) {
    const timeline = host.timeline ? { timeline: host.timeline } : {};
    // The host's own outcome, on its first task line: a host can fail with no task failed.
    const first = {
      hostStatus: host.status,
      hostDurationMs: host.durationMs,
      ...(host.message !== undefined ? { hostMessage: host.message } : {}),
      ...timeline,
    };
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
          ...timeline,
          ...run,
        }),
      );
    }
    host.tasks.forEach((task, i) => {
      lines.push(
        JSON.stringify({
          time,
          mode: report.mode,
          host: host.host,
          task: task.task,
          ...(task.instance !== undefined ? { instance: task.instance } : {}),
          status: task.status,
          durationMs: task.durationMs,
          changes: task.changes,
          ...(task.message !== undefined ? { message: task.message } : {}),
          ...(task.status === 'failed' && host.rollback ? { rollback: host.rollback } : {}),
          ...(i === 0 ? first : {}),
          ...run,
        }),
      );
    });
  }
  return lines.map((l) => `${l}\n`).join('');
}
