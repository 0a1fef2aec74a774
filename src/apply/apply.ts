import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import APPLY_SH from './apply.sh';
import DETACH_SH from './detach.sh';
import { encodeOps, type Op } from './encode-ops.js';

const APPLY_PROGRAM = compactProgram(APPLY_SH);
const DETACH_PROGRAM = compactProgram(DETACH_SH);

/**
 * The batch's stdin: detach.sh's header, apply.sh, then the operations. detach.sh spools them on
 * the host and runs apply.sh detached from the SSH session (see its header).
 */
export async function detachedInput(ops: readonly Op[]): Promise<Buffer[]> {
  const program = Buffer.from(APPLY_PROGRAM, 'utf8');
  const parts = await encodeOps(ops);
  const size = parts.reduce((n, part) => n + part.length, 0);
  return [Buffer.from(`program=${program.length} ops=${size}\n`, 'utf8'), program, ...parts];
}

export interface ApplyOutcome {
  /** How many operations completed, in order. */
  done: number;
  /** The operation that failed, and why. */
  failure?: { index: number; message: string };
  /** The batch never finished (connection lost, timeout, killed). */
  incomplete?: string;
  /** Stopped at a task boundary after an interrupt (Ctrl-C). */
  interrupted?: boolean;
  /** The restart or its health check failed and the batch put back the state before it. */
  rollback?: RollbackOutcome;
  /** What the batch's `lock` operation said (src/runner/host-lock.ts). */
  lock?: LockOutcome;
  durationMs: number;
}

/**
 * The `lock` operation's lines: `taken` (the holder file as written), `tookOver` (the holder it
 * found, gone, and the host's boot id now), `busy` (another batch holds it: its holder file),
 * `moved` (another batch ran since the read: the serial now).
 */
export interface LockOutcome {
  taken?: string;
  tookOver?: { holder: string; bootId: string };
  busy?: string;
  moved?: string;
}

/** `lock<TAB>STATE<TAB>...`, from apply.sh's op_lock, into `into`. */
export function parseLockLine(fields: readonly string[], into: LockOutcome): void {
  const [, state, value = '', extra = ''] = fields;
  const text = Buffer.from(value, 'base64').toString('utf8');
  if (state === 'taken') into.taken = text;
  else if (state === 'took-over') into.tookOver = { holder: text, bootId: extra };
  else if (state === 'busy') into.busy = text;
  else if (state === 'moved') into.moved = value;
}

export interface RollbackOutcome {
  /** Why the rollback itself failed (putting a path back, or the health check after it). */
  failure?: string;
}

/** `rollback<TAB>ok` or `rollback<TAB>fail<TAB>BASE64`, from apply.sh. */
function parseRollback(fields: readonly string[]): RollbackOutcome {
  const [, status, message = ''] = fields;
  return status === 'fail' ? { failure: Buffer.from(message, 'base64').toString('utf8') } : {};
}

export interface ApplyOptions {
  commandLine: (script: string) => string;
  timeoutMs: number;
  /** Called as each operation completes, for live progress. */
  onOpDone?: (index: number) => void;
  /** Called when an operation fails, and when the batch begins to roll back (the timeline). */
  onOpFailed?: (index: number) => void;
  onRollbackBegin?: () => void;
  /** Ctrl-C: the batch finishes the operation in flight and stops at the next task. */
  interrupt?: AbortSignal;
  /**
   * Run apply.sh in the session itself instead of detached (detach.sh): for the local tests of
   * its operations, which run it under their own shell. A host always gets the detached batch.
   */
  inSession?: boolean;
}

/** Carries out the operations on the host in one round trip, streaming per-op progress. */
export async function applyOps(
  executor: Executor,
  ops: readonly Op[],
  options: ApplyOptions,
): Promise<ApplyOutcome> {
  // Written by the stdout callback as lines arrive.
  const seen: {
    done: number;
    failure?: ApplyOutcome['failure'];
    ended: boolean;
    interrupted: boolean;
    rollback?: RollbackOutcome;
    lock: LockOutcome;
  } = { done: 0, ended: false, interrupted: false, lock: {} };
  let pending = '';
  const onLine = (line: string) => {
    if (line === 'end') {
      seen.ended = true;
      return;
    }
    if (line === 'interrupted') {
      seen.interrupted = true;
      return;
    }
    if (line === 'rollback\tbegin') {
      options.onRollbackBegin?.();
      return;
    }
    if (line.startsWith('rollback\t')) {
      seen.rollback = parseRollback(line.split('\t'));
      return;
    }
    if (line.startsWith('lock\t')) {
      parseLockLine(line.split('\t'), seen.lock);
      return;
    }
    const [indexText = '', status, message = ''] = line.split('\t');
    const index = Number(indexText);
    const op = ops[index];
    if (status === 'ok' && op) {
      seen.done = index + 1;
      options.onOpDone?.(index);
    } else if (status === 'fail') {
      seen.failure = { index, message: Buffer.from(message, 'base64').toString('utf8') };
      options.onOpFailed?.(index);
    }
  };
  // Before the command starts: an upload that cannot be read fails the host with nothing done.
  const stdin = options.inSession === true ? await encodeOps(ops) : await detachedInput(ops);
  const result = await executor.exec(
    options.commandLine(options.inSession === true ? APPLY_PROGRAM : DETACH_PROGRAM),
    {
      stdin,
      timeoutMs: options.timeoutMs,
      ...(options.interrupt ? { interrupt: options.interrupt } : {}),
      onStdout: (chunk) => {
        pending += chunk.toString('utf8');
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          onLine(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      },
    },
  );
  const outcome: ApplyOutcome = {
    done: seen.done,
    durationMs: result.durationMs,
    ...(Object.keys(seen.lock).length > 0 ? { lock: seen.lock } : {}),
  };
  if (seen.failure) {
    return {
      ...outcome,
      failure: seen.failure,
      ...(seen.rollback ? { rollback: seen.rollback } : {}),
    };
  }
  if (seen.interrupted) return { ...outcome, interrupted: true };
  if (!seen.ended || seen.done < ops.length) {
    const stderr = result.stderr.toString('utf8').trim();
    return {
      ...outcome,
      incomplete: result.timedOut
        ? 'the apply step timed out'
        : `the apply step stopped early (exit code ${result.exitCode ?? 'none'})${stderr ? `: ${stderr}` : ''}`,
    };
  }
  return outcome;
}
