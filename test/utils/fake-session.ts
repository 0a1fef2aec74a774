import { stdinText } from './stdin.js';
import type { ExecOutcome, ExecRequest } from '../../src/exec/executor.js';
import type { HostSession } from '../../src/runner/run-host.js';
import { noTraffic } from '../../src/runner/types.js';

/** One operation of an apply batch, as the fake reads it off the batch's stdin. */
export interface SentOp {
  index: number;
  kind: string;
}

/** What the fake host answers a command: apply.sh's output lines, and how the command ends. */
export interface HostAnswer {
  stdout: string;
  exitCode?: number | null;
  /** The command rejects with this once its output is out (a connection lost half-way). */
  reject?: Error;
}

/** How the fake host answers each command, given the operations in its stdin. */
export type HostScript = (ops: readonly SentOp[], request: ExecRequest) => HostAnswer;

/** apply.sh's answer when every operation succeeds. */
export const everyOpOk: HostScript = (ops) => ({
  stdout: `${ops.map((op) => `${op.index}\tok\n`).join('')}end\n`,
});

/** apply.sh's `fail` line for an operation, its message in base64 as apply.sh sends it. */
export function failLine(index: number, message: string): string {
  return `${index}\tfail\t${Buffer.from(message, 'utf8').toString('base64')}\n`;
}

/**
 * The operations before the first of `kind` succeed; that one fails with `message`; `then` is
 * what apply.sh says next (a `rollback` line, …). The batch then ends.
 */
export function failingAt(kind: string, message: string, then = ''): HostScript {
  return (ops) => {
    const at = ops.findIndex((op) => op.kind === kind);
    if (at < 0) throw new Error(`no ${kind} operation in the batch`);
    const before = ops.slice(0, at).map((op) => `${op.index}\tok\n`);
    return { stdout: `${before.join('')}${failLine(at, message)}${then}end\n`, exitCode: 1 };
  };
}

/**
 * A logged-in host for the runner's unit tests: every command it is sent is answered by
 * `script` (an apply batch that succeeds, by default), its output streamed to the request's
 * callback as a host's would be; it records what it was sent and whether it was closed.
 */
export function fakeSession(script: HostScript = everyOpOk): {
  session: HostSession;
  sent: { command: string; stdin: string }[];
  closed: () => boolean;
} {
  const sent: { command: string; stdin: string }[] = [];
  let closed = false;
  const session: HostSession = {
    stats: noTraffic(),
    warnings: [],
    close: () => {
      closed = true;
    },
    exec: (command: string, request: ExecRequest = {}) => {
      const stdin = stdinText(request.stdin);
      sent.push({ command, stdin });
      session.stats.roundTrips += 1;
      const ops = stdin
        .split('\n')
        .map((line) => /^(\d+)\t([a-z-]+)/.exec(line))
        .filter((m) => m !== null)
        .map((m) => ({ index: Number(m[1]), kind: m[2] ?? '' }));
      const answer = script(ops, request);
      request.onStdout?.(Buffer.from(answer.stdout));
      if (answer.reject) return Promise.reject(answer.reject);
      const outcome: ExecOutcome = {
        exitCode: answer.exitCode === undefined ? 0 : answer.exitCode,
        stdout: Buffer.from(answer.stdout),
        stderr: Buffer.alloc(0),
        durationMs: 1,
        timedOut: false,
      };
      return Promise.resolve(outcome);
    },
  };
  return { session, sent, closed: () => closed };
}
