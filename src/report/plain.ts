import type { HostResult, RunObserver, TaskResult } from '../runner/types.js';
import { describeChange, renderTaskDiffs } from './change-kinds.js';
import { oneLine, palette, printable, seconds } from '../text.js';

export interface PlainOptions {
  /** 0: task and host lines; 1: also phases, each change, level-1 detail; 2: level-2 detail. */
  verbose: number;
  /** Show the diff of each change after its task line. */
  diff: boolean;
  /** Only the live view asks for colour; plain output for CI and pipes has none. */
  color?: boolean;
}

/** Anything with write(text), e.g. process.stdout. */
export interface TextSink {
  write(text: string): unknown;
}

/**
 * The observer for output that is not a terminal (CI, a pipe): one line per event, each
 * prefixed by its host, so parallel hosts stay apart in a log and can be grepped. A task's
 * block (its line, its changes under -v, its diffs) is written at once and so never interleaves.
 */
export function createPlainObserver(out: TextSink, options: PlainOptions): RunObserver {
  const failurePrinted = new Set<string>();
  const emit = (lines: string[]): void => {
    if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
  };
  return {
    hostPhase(host, phase) {
      if (options.verbose >= 1) emit([`${prefix(host)} ${oneLine(phase)}`]);
    },
    taskFinished(host, result) {
      if (result.status === 'failed') failurePrinted.add(host);
      emit(formatTaskFinished(host, result, options));
    },
    hostFinished(result) {
      emit([formatHostFinished(result, failurePrinted.has(result.host))]);
    },
    detail(host, level, text) {
      if (level <= options.verbose) emit(formatDetail(host, text));
    },
  };
}

/** `[web01]` */
export function prefix(host: string): string {
  return `[${oneLine(host)}]`;
}

/** Continuation lines of a message, kept under their host. */
function continued(host: string, text: string): string {
  return printable(text)
    .split('\n')
    .join(`\n${prefix(host)}     `);
}

/**
 * `[web01] merge: changed (0.12s)`, then under -v each change, then with diff the diffs (their
 * headers name the host, so they are not prefixed and stay a valid patch).
 */
export function formatTaskFinished(
  host: string,
  result: TaskResult,
  options: PlainOptions,
): string[] {
  const c = palette(options.color ?? false);
  const head = `${prefix(host)} ${result.task}: `;
  const time = `(${seconds(result.durationMs)})`;
  const message = result.message === undefined ? '' : `: ${continued(host, result.message)}`;
  const lines: string[] = [];
  switch (result.status) {
    case 'ok':
      lines.push(`${head}${c.green('ok')} ${time}`);
      break;
    case 'changed':
      lines.push(`${head}${c.yellow('changed')} ${time}`);
      break;
    case 'failed':
      lines.push(`${head}${c.red('failed')} ${time}${message}`);
      break;
    case 'skipped':
      lines.push(`${head}${c.cyan('skipped')}${message}`);
      break;
  }
  if (options.verbose >= 1) {
    for (const change of result.changes) lines.push(`${prefix(host)}   ${describeChange(change)}`);
  }
  if (options.diff) {
    lines.push(...renderTaskDiffs(host, result.changes, { color: options.color ?? false }));
  }
  return lines;
}

/**
 * The host's last line: `[web01] changed (2.31s): users, merge`, `[web01] unreachable: <reason>`,
 * `[web01] failed in service (2.31s)`; the message is repeated only when no task line showed it.
 */
export function formatHostFinished(result: HostResult, failureShown: boolean): string {
  const head = prefix(result.host);
  const time = `(${seconds(result.durationMs)})`;
  const message = result.message === undefined ? '' : `: ${continued(result.host, result.message)}`;
  switch (result.status) {
    case 'ok':
      return `${head} ok ${time}`;
    case 'changed': {
      const changed = result.tasks.filter((t) => t.status === 'changed').map((t) => t.task);
      return `${head} changed ${time}${changed.length > 0 ? `: ${changed.join(', ')}` : ''}`;
    }
    case 'unreachable':
      return `${head} unreachable${message || ': no reason given'}`;
    case 'failed': {
      const where = result.failedTask ? `failed in ${result.failedTask}` : 'failed';
      return `${head} ${where} ${time}${failureShown ? '' : message}`;
    }
    case 'skipped':
      return `${head} skipped${message}`;
  }
}

export function formatDetail(host: string, text: string): string[] {
  return printable(text)
    .split('\n')
    .map((line) => `${prefix(host)}   ${line}`);
}
