import {
  Listr,
  ListrLogger,
  ProcessOutput,
  type ListrDefaultRendererLogLevels,
  type ListrLogLevels,
  type ListrTask,
} from 'listr2';
import type { HostResult, RunObserver } from '../runner/types.js';
import { describeChange, renderTaskDiffs } from './change-kinds.js';
import { formatDetail, formatHostFinished, formatTaskFinished } from './plain.js';
import { oneLine, seconds } from '../text.js';

export interface LiveViewOptions {
  verbose: number;
  diff: boolean;
  color: boolean;
  /** Where to draw; process.stdout when unset. */
  output?: NodeJS.WriteStream;
  /** Terminal height; the output's rows when unset. */
  rows?: number;
  /** listr2 renderer; 'default' (falling back to 'simple' off a terminal) unless a test asks. */
  renderer?: 'default' | 'simple' | 'test' | 'silent';
}

export interface LiveView {
  observer: RunObserver;
  /**
   * Call once the runner has returned: hosts it never finished are shown as not run, the view
   * draws its last frame, and under -v / --diff each host's changes follow, grouped by host.
   */
  done(): Promise<void>;
}

/** What the view knows of one host; the listr2 rows are drawn from it. */
interface HostRow {
  host: string;
  started: boolean;
  /** Current task or phase. */
  activity: string;
  /** Latest -v line, shown under the row while the host runs. */
  lastLine?: string;
  result?: HostResult;
  /** Lines printed after the view under -v / --diff. */
  transcript: string[];
  failureShown: boolean;
  finished: Promise<HostResult | undefined>;
  settle: (result: HostResult | undefined) => void;
}

/** `web01: merge` while a host runs. */
export function runningTitle(row: Pick<HostRow, 'host' | 'activity'>): string {
  return `${oneLine(row.host)}: ${oneLine(row.activity)}`;
}

/** `web01: changed (users, merge) 1.2s`, `web01: failed in service: <first line>`, … */
export function finishedTitle(result: HostResult): string {
  const name = oneLine(result.host);
  const time = seconds(result.durationMs, 1);
  const message = result.message ?? result.tasks.find((t) => t.status === 'failed')?.message;
  const reason = message === undefined ? '' : `: ${firstLine(message)}`;
  switch (result.status) {
    case 'ok':
      return `${name}: ok ${time}`;
    case 'changed': {
      const changed = result.tasks.filter((t) => t.status === 'changed').map((t) => t.task);
      return `${name}: changed (${changed.join(', ')}) ${time}`;
    }
    case 'failed':
      return `${name}: failed${result.failedTask ? ` in ${result.failedTask}` : ''}${reason}`;
    case 'unreachable':
      return `${name}: unreachable${reason}`;
    case 'skipped':
      return `${name}: skipped${reason}`;
  }
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return oneLine(lines[0] ?? '') + (lines.length > 1 ? ' …' : '');
}

/** Hosts that fit on the screen get a row each; beyond that, a summary with the active ones. */
export function useCompactView(hostCount: number, rows: number): boolean {
  return hostCount > rows - 5;
}

/** `100 hosts: 12 running, 60 waiting, 28 done (20 ok, 6 changed, 1 failed, 1 unreachable)` */
export function summaryTitle(rows: HostRow[], elapsedMs?: number): string {
  const done = rows.filter((r) => r.result);
  const count = (status: HostResult['status']): number =>
    done.filter((r) => r.result?.status === status).length;
  const outcome = [
    `${count('ok')} ok`,
    `${count('changed')} changed`,
    `${count('failed')} failed`,
    `${count('unreachable')} unreachable`,
    ...(count('skipped') > 0 ? [`${count('skipped')} not run`] : []),
  ].join(', ');
  if (elapsedMs !== undefined)
    return `${rows.length} hosts in ${seconds(elapsedMs, 1)}: ${outcome}`;
  const running = rows.filter((r) => r.started && !r.result).length;
  const waiting = rows.filter((r) => !r.started && !r.result).length;
  return `${rows.length} hosts: ${running} running, ${waiting} waiting, ${done.length} done (${outcome})`;
}

/** Under the summary: the running hosts (as many as fit) and the failed ones. */
export function summaryLines(rows: HostRow[], room: number, final: boolean): string[] {
  const lines: string[] = [];
  const running = final ? [] : rows.filter((r) => r.started && !r.result);
  const shown = running.length > room ? Math.max(0, room - 1) : running.length;
  for (const row of running.slice(0, shown)) lines.push(runningTitle(row));
  if (running.length > shown) lines.push(`… and ${running.length - shown} more running`);
  const failed = rows.filter(
    (r) => r.result?.status === 'failed' || r.result?.status === 'unreachable',
  );
  const failedRoom = final ? Math.max(room, 10) : 10;
  for (const row of failed.slice(0, failedRoom)) {
    if (row.result) lines.push(finishedTitle(row.result));
  }
  if (failed.length > failedRoom)
    lines.push(`… and ${failed.length - failedRoom} more failed (see the recap)`);
  return lines;
}

function newRow(host: string): HostRow {
  let settle: (result: HostResult | undefined) => void = () => undefined;
  const finished = new Promise<HostResult | undefined>((resolve) => {
    settle = resolve;
  });
  return {
    host,
    started: false,
    activity: 'waiting',
    transcript: [],
    failureShown: false,
    finished,
    settle,
  };
}

/** The listr2 row of a host: what it needs from a TaskWrapper. */
interface RowHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

/**
 * A listr2 view for a terminal: one row per host (concurrent, exitOnError false) showing its
 * current task or phase, then its outcome. listr2 only draws: the runner owns concurrency, and
 * each row's task is a promise settled by the runner's hostFinished. With more hosts than the
 * terminal has rows, one summary row lists the running and failed hosts instead.
 */
export function createLiveView(hosts: string[], options: LiveViewOptions): LiveView {
  const startedAt = Date.now();
  const rows = new Map(hosts.map((host) => [host, newRow(host)]));
  const ordered = [...rows.values()];
  // rows is undefined off a terminal, whatever the typings say.
  const streamRows = (options.output ?? process.stdout).rows as number | undefined;
  const terminalRows = options.rows ?? streamRows ?? 24;
  const compact = useCompactView(hosts.length, terminalRows);
  const room = Math.max(3, terminalRows - 8);
  const handles = new Map<string, RowHandle>();
  let summary: RowHandle | undefined;

  const refresh = (row?: HostRow): void => {
    if (compact) {
      if (summary) {
        summary.title = summaryTitle(ordered);
        summary.output = summaryLines(ordered, room, false).join('\n');
      }
      return;
    }
    const handle = row && handles.get(row.host);
    if (!row || !handle || row.result) return;
    handle.title = runningTitle(row);
    if (row.lastLine !== undefined) handle.output = row.lastLine;
  };

  const rowOf = (host: string): HostRow => {
    let row = rows.get(host);
    if (!row) {
      // A host the view was not told about still gets shown rather than dropped.
      row = newRow(host);
      rows.set(host, row);
      ordered.push(row);
    }
    return row;
  };

  const tasks: ListrTask[] = compact
    ? [
        {
          title: summaryTitle(ordered),
          task: async (_ctx, task): Promise<void> => {
            summary = task;
            refresh();
            const results = await Promise.all(ordered.map((r) => r.finished));
            task.title = summaryTitle(ordered, Date.now() - startedAt);
            task.output = summaryLines(ordered, room, true).join('\n');
            if (results.some((r) => r?.status === 'failed' || r?.status === 'unreachable')) {
              throw new Error(task.title);
            }
          },
          // One output entry, replaced each time: the latest list of running and failed hosts.
          rendererOptions: { persistentOutput: true, outputBar: 1 },
        },
      ]
    : ordered.map((row) => ({
        title: runningTitle(row),
        task: async (_ctx: unknown, task: RowHandle): Promise<void> => {
          handles.set(row.host, task);
          refresh(row);
          const result = await row.finished;
          task.output = '';
          if (!result) {
            task.skip(`${oneLine(row.host)}: not run`);
            return;
          }
          const title = finishedTitle(result);
          if (result.status === 'failed' || result.status === 'unreachable') throw new Error(title);
          if (result.status === 'skipped') task.skip(title);
          else task.title = title;
        },
      }));

  const output = options.output;
  // Tests draw into a stream of their own; the CLI leaves listr2 on process.stdout.
  const processOutput = output ? new ProcessOutput(output, output) : undefined;
  const logger = processOutput
    ? new ListrLogger<ListrDefaultRendererLogLevels>({ useIcons: true, processOutput })
    : undefined;
  const fallbackLogger = processOutput
    ? new ListrLogger<ListrLogLevels>({ useIcons: false, processOutput })
    : undefined;
  const listr = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    // The CLI owns Ctrl-C: hosts finish their task and the recap is printed (exit 130);
    // listr2's own handler would exit the process with 127 instead.
    registerSignalListeners: false,
    renderer: options.renderer ?? 'default',
    fallbackRenderer: 'simple',
    rendererOptions: {
      collapseSubtasks: true,
      collapseErrors: true,
      showErrorMessage: true,
      formatOutput: 'truncate',
      ...(logger ? { logger } : {}),
    },
    fallbackRendererOptions: fallbackLogger ? { logger: fallbackLogger } : {},
  });
  const running = listr.run().then(
    () => undefined,
    () => undefined,
  );

  const observer: RunObserver = {
    hostStarted(host) {
      const row = rowOf(host);
      row.started = true;
      row.activity = 'starting';
      refresh(row);
    },
    hostPhase(host, phase) {
      const row = rowOf(host);
      row.started = true;
      row.activity = phase;
      if (options.verbose >= 1) row.transcript.push(`[${oneLine(host)}] ${oneLine(phase)}`);
      refresh(row);
    },
    taskStarted(host, task) {
      const row = rowOf(host);
      row.started = true;
      row.activity = task;
      refresh(row);
    },
    taskFinished(host, result) {
      const row = rowOf(host);
      if (result.status === 'failed') row.failureShown = true;
      if (options.verbose >= 1) {
        row.transcript.push(...formatTaskFinished(host, result, options));
        const last = result.changes.at(-1);
        if (last) row.lastLine = describeChange(last);
      } else if (options.diff) {
        row.transcript.push(...renderTaskDiffs(host, result.changes, { color: options.color }));
      }
      refresh(row);
    },
    hostFinished(result) {
      const row = rowOf(result.host);
      if (options.verbose >= 1) row.transcript.push(formatHostFinished(result, row.failureShown));
      row.result = result;
      row.settle(result);
      refresh(row);
    },
    detail(host, level, text) {
      if (level > options.verbose) return;
      const row = rowOf(host);
      const lines = formatDetail(host, text);
      row.transcript.push(...lines);
      row.lastLine = oneLine(text);
      refresh(row);
    },
  };

  return {
    observer,
    async done() {
      for (const row of ordered) if (!row.result) row.settle(undefined);
      await running;
      const text = ordered
        .filter((row) => row.transcript.length > 0)
        .map((row) => row.transcript.join('\n'))
        .join('\n\n');
      if (text !== '') (output ?? process.stdout).write(`\n${text}\n`);
    },
  };
}
