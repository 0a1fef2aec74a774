import type { JsonReport, ReportHost, ReportTask } from './json-schema.js';
import type { RunContext } from './log.js';

/**
 * What the HTML page shows of one run. Built only from the JSON report (or from the `--log`
 * lines, which are built from it), never from the run's results: a Secret cannot reach the page
 * by any path the JSON report does not already refuse.
 */
export interface PageRun {
  command: string;
  mode: 'run' | 'check';
  startedAt?: string;
  durationMs: number;
  /** Unknown for a log written before the log lines said it. */
  exitCode?: number;
  interrupted: boolean;
  who?: string;
  inventory?: readonly { file: string; sha256: string }[];
  hosts: PageHost[];
}

export type PageHost = Omit<ReportHost, 'stats'>;

/** The page of a run made in this process (`--html FILE`). */
export function pageRunOf(report: JsonReport, context: RunContext): PageRun {
  return {
    command: context.command,
    mode: report.mode,
    ...(report.startedAt !== undefined ? { startedAt: report.startedAt } : {}),
    durationMs: report.durationMs,
    exitCode: report.exitCode,
    interrupted: report.interrupted,
    who: context.who,
    inventory: context.inventory,
    hosts: report.hosts,
  };
}

/** One `--log` line, as `toLogLines` writes it (docs/report-schema.md, "--log lines"). */
interface LogLine {
  time: string;
  mode: 'run' | 'check';
  host: string;
  task: ReportTask['task'] | null;
  instance?: string;
  status: string;
  durationMs: number;
  changes?: ReportTask['changes'];
  message?: string;
  rollback?: ReportHost['rollback'];
  timeline?: ReportHost['timeline'];
  hostStatus?: ReportHost['status'];
  hostDurationMs?: number;
  hostMessage?: string;
  run?: {
    command: string;
    exitCode: number;
    durationMs: number;
    interrupted: boolean;
    who: string;
    inventory: { file: string; sha256: string }[];
  };
}

const HOST_STATUSES = new Set(['ok', 'changed', 'failed', 'unreachable', 'skipped']);
const TASK_STATUSES = new Set(['ok', 'changed', 'failed', 'skipped']);

/** A line that is not a log line of a run says where, rather than making a wrong page. */
export class LogFormatError extends Error {}

function parseLine(text: string, lineNo: number): LogLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LogFormatError(`line ${lineNo}: not JSON`);
  }
  const line = value as Partial<LogLine> | null;
  if (
    typeof line !== 'object' ||
    line === null ||
    typeof line.time !== 'string' ||
    typeof line.host !== 'string' ||
    typeof line.status !== 'string' ||
    (line.mode !== 'run' && line.mode !== 'check')
  ) {
    throw new LogFormatError(`line ${lineNo}: not a hermes-fleet --log line`);
  }
  return line as LogLine;
}

/** A host's status from its task lines, for logs written before they said it. */
function derivedStatus(lines: readonly LogLine[]): ReportHost['status'] {
  const only = lines.length === 1 && lines[0]?.task === null ? lines[0].status : undefined;
  if (only !== undefined && HOST_STATUSES.has(only)) return only as ReportHost['status'];
  if (lines.some((l) => l.status === 'failed')) return 'failed';
  if (lines.every((l) => l.status === 'skipped')) return 'skipped';
  return lines.some((l) => l.status === 'changed') ? 'changed' : 'ok';
}

function hostOf(name: string, lines: readonly LogLine[]): PageHost {
  const first = lines[0];
  const taskLines = lines.filter((l) => l.task !== null);
  const bare = taskLines.length === 0 ? first : undefined;
  const status =
    first?.hostStatus !== undefined && HOST_STATUSES.has(first.hostStatus)
      ? first.hostStatus
      : derivedStatus(lines);
  const message = first?.hostMessage ?? bare?.message;
  const rollback = lines.find((l) => l.rollback)?.rollback;
  const failed = taskLines.find((l) => l.status === 'failed');
  return {
    host: name,
    status,
    durationMs: first?.hostDurationMs ?? lines.reduce((n, l) => n + l.durationMs, 0),
    ...(message !== undefined ? { message } : {}),
    ...(failed?.task ? { failedTask: failed.task } : {}),
    ...(failed?.instance !== undefined ? { failedInstance: failed.instance } : {}),
    ...(rollback ? { rollback } : {}),
    ...(first?.timeline ? { timeline: first.timeline } : {}),
    tasks: taskLines.map((l) => ({
      task: l.task ?? '',
      ...(l.instance !== undefined ? { instance: l.instance } : {}),
      status: (TASK_STATUSES.has(l.status) ? l.status : 'ok') as ReportTask['status'],
      durationMs: l.durationMs,
      ...(l.message !== undefined ? { message: l.message } : {}),
      changes: l.changes ?? [],
    })),
  };
}

/**
 * The runs in a `--log` file (appended to by run after run), oldest first; `last` keeps the
 * newest N. A run's lines share their `time` (its start).
 */
export function pageRunsOfLog(text: string, last = 1): PageRun[] {
  const runs = new Map<string, LogLine[]>();
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const line = parseLine(raw, i + 1);
    const key = `${line.time}\u0000${line.run?.command ?? ''}`;
    const lines = runs.get(key) ?? [];
    lines.push(line);
    runs.set(key, lines);
  });
  return [...runs.values()].slice(-Math.max(1, last)).map((lines) => {
    const first = lines[0];
    const byHost = new Map<string, LogLine[]>();
    for (const line of lines) byHost.set(line.host, [...(byHost.get(line.host) ?? []), line]);
    const hosts = [...byHost].map(([name, hostLines]) => hostOf(name, hostLines));
    const run = first?.run;
    return {
      command: run?.command ?? 'run',
      mode: first?.mode ?? 'run',
      ...(first ? { startedAt: first.time } : {}),
      durationMs: run?.durationMs ?? Math.max(0, ...hosts.map((h) => h.durationMs)),
      ...(run ? { exitCode: run.exitCode, who: run.who, inventory: run.inventory } : {}),
      interrupted: run?.interrupted ?? false,
      hosts,
    };
  });
}
