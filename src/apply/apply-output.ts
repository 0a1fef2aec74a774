/**
 * Where detach.sh keeps the host's last word (its `$D/result`): a link to the output of the last
 * batch that took the lock, dangling once that output was streamed whole. A batch whose session
 * ended first leaves it there, and the next run's read finds it (src/runner/cut-off.ts).
 */
export const APPLY_RESULT = '/var/lib/hermes-fleet/apply/result';

export interface RollbackOutcome {
  /** Why the rollback itself failed (putting a path back, or the health check after it). */
  failure?: string;
}

/**
 * The `lock` operation's lines (ops/lock.sh): `taken` (the holder file as written), `tookOver`
 * (the holder it found, gone, and the host's boot id now), `busy` (another batch holds it: its
 * holder file), `moved` (another batch ran since the read: the serial now).
 */
export interface LockOutcome {
  taken?: string;
  tookOver?: { holder: string; bootId: string };
  busy?: string;
  moved?: string;
}

/**
 * One line of apply.sh's output: `INDEX<TAB>ok`, `INDEX<TAB>fail<TAB>BASE64`,
 * `rollback<TAB>ok`, `rollback<TAB>fail<TAB>BASE64`, `lock<TAB>STATE<TAB>…`, `interrupted` or
 * `end`.
 */
export type ApplyLine =
  | { kind: 'end' }
  | { kind: 'interrupted' }
  | { kind: 'rollback'; outcome: RollbackOutcome }
  /** The rollback starts (`rollback<TAB>begin`): for the timeline, no outcome yet. */
  | { kind: 'rollback-begin' }
  | { kind: 'lock'; lock: LockOutcome }
  | { kind: 'ok'; index: number }
  | { kind: 'fail'; index: number; message: string }
  | { kind: 'other' };

function decoded(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

function parseLock(fields: readonly string[]): LockOutcome {
  const [, state, value = '', extra = ''] = fields;
  if (state === 'taken') return { taken: decoded(value) };
  if (state === 'took-over') return { tookOver: { holder: decoded(value), bootId: extra } };
  if (state === 'busy') return { busy: decoded(value) };
  if (state === 'moved') return { moved: value };
  return {};
}

export function parseApplyLine(line: string): ApplyLine {
  if (line === 'end') return { kind: 'end' };
  if (line === 'interrupted') return { kind: 'interrupted' };
  const [head = '', status, message = ''] = line.split('\t');
  if (line === 'rollback\tbegin') return { kind: 'rollback-begin' };
  if (head === 'rollback') {
    return { kind: 'rollback', outcome: status === 'fail' ? { failure: decoded(message) } : {} };
  }
  if (head === 'lock') return { kind: 'lock', lock: parseLock(line.split('\t')) };
  if (status === 'ok') return { kind: 'ok', index: Number(head) };
  if (status === 'fail') return { kind: 'fail', index: Number(head), message: decoded(message) };
  return { kind: 'other' };
}

/** What a batch's output says so far: how far it got, and how it ended. */
export interface ApplyOutput {
  /** How many operations completed, in order. */
  done: number;
  failure?: { index: number; message: string };
  rollback?: RollbackOutcome;
  /** What the batch's `lock` operation said, when it said anything. */
  lock?: LockOutcome;
  ended: boolean;
  interrupted: boolean;
}

export function noApplyOutput(): ApplyOutput {
  return { done: 0, ended: false, interrupted: false };
}

/**
 * Adds one line to what the output says (apply.ts does so as the lines stream in). `ops`: how
 * many operations the batch has, when known; an `ok` for an index beyond them is ignored.
 */
export function addApplyLine(output: ApplyOutput, line: ApplyLine, ops?: number): void {
  switch (line.kind) {
    case 'end':
      output.ended = true;
      break;
    case 'interrupted':
      output.interrupted = true;
      break;
    case 'rollback':
      output.rollback = line.outcome;
      break;
    case 'lock':
      output.lock = { ...output.lock, ...line.lock };
      break;
    case 'ok':
      if (
        Number.isInteger(line.index) &&
        line.index >= 0 &&
        (ops === undefined || line.index < ops)
      ) {
        output.done = line.index + 1;
      }
      break;
    case 'fail':
      output.failure = { index: line.index, message: line.message };
      break;
    case 'rollback-begin':
    case 'other':
      break;
  }
}

/** A whole output at once (as detach.sh spooled it in APPLY_RESULT). */
export function parseApplyOutput(text: string): ApplyOutput {
  const output = noApplyOutput();
  for (const line of text.split('\n')) {
    if (line !== '') addApplyLine(output, parseApplyLine(line));
  }
  return output;
}
