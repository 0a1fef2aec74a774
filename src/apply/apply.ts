import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import { partSize, type StdinPart } from '../exec/write-stdin.js';
import { APPLY_SH } from './program.js';
import DETACH_SH from './detach.sh';
import {
  addApplyLine,
  noApplyOutput,
  parseApplyLine,
  type ApplyOutput,
  type LockOutcome,
  type RollbackOutcome,
} from './apply-output.js';
import { encodeOps, type Op } from './encode-ops.js';

export { APPLY_RESULT, type LockOutcome, type RollbackOutcome } from './apply-output.js';

const APPLY_PROGRAM = compactProgram(APPLY_SH);
const DETACH_PROGRAM = compactProgram(DETACH_SH);

/**
 * The batch's stdin: detach.sh's header, apply.sh, the operations, then the release uploads.
 * detach.sh spools the program and operations on the host, unpacks each release upload as it
 * arrives (its operation says `staged=1` and carries no bytes), and only once all of it arrived
 * runs apply.sh detached from the SSH session (see its header). The archive thus crosses the
 * host's disk once, and its unpack overlaps its transfer.
 */
export async function detachedInput(ops: readonly Op[]): Promise<StdinPart[]> {
  const program = Buffer.from(APPLY_PROGRAM, 'utf8');
  const staged: StdinPart[] = [];
  const inBatch: Op[] = [];
  for (const op of ops) {
    if (op.name !== 'release-unpack' || !op.upload) {
      inBatch.push(op);
      continue;
    }
    const { upload, ...rest } = op;
    const { size, sha256, format, strip } = op.fields;
    staged.push(
      Buffer.from(`size=${size} sha256=${sha256} format=${format} strip=${strip}\n`, 'utf8'),
      await upload.bytes(),
    );
    inBatch.push({ ...rest, fields: { ...op.fields, size: undefined, staged: '1' } });
  }
  const parts = await encodeOps(inBatch);
  const size = parts.reduce((n, part) => n + partSize(part), 0);
  const header = `program=${program.length} ops=${size} stage=${staged.length / 2}\n`;
  return [Buffer.from(header, 'utf8'), program, ...parts, ...staged];
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
  const seen: ApplyOutput = noApplyOutput();
  let pending = '';
  const onLine = (text: string) => {
    const line = parseApplyLine(text);
    addApplyLine(seen, line, ops.length);
    if (line.kind === 'ok' && ops[line.index]) options.onOpDone?.(line.index);
    if (line.kind === 'fail') options.onOpFailed?.(line.index);
    if (line.kind === 'rollback-begin') options.onRollbackBegin?.();
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
    ...(seen.lock ? { lock: seen.lock } : {}),
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
