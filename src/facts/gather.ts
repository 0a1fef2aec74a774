import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import { namedLine } from '../exec/line-field.js';
import { HostReadError, parseLock } from './fact-kinds.js';
import { emptyFacts, factKindOf, mergeRequests, requestKey, storeAnswer } from './fact-store.js';
import { READ_SH } from './program.js';
import type { FactRequest, HostFacts, LockFact } from './types.js';

export { HostReadError, parseKeyValues } from './fact-kinds.js';
export { emptyFacts } from './fact-store.js';

const READ_PROGRAM = compactProgram(READ_SH);

/** Merges duplicate requests (a path asked with and without content is read once, with it). */
export function dedupeRequests(requests: readonly FactRequest[]): FactRequest[] {
  const byKey = new Map<string, FactRequest>();
  for (const r of requests) {
    const key = requestKey(r);
    const seen = byKey.get(key);
    byKey.set(key, seen ? mergeRequests(seen, r) : r);
  }
  return [...byKey.values()];
}

export function encodeRequests(requests: readonly FactRequest[]): string {
  return requests
    .map((r, i) => namedLine(i, r.kind, factKindOf(r).fields(r), 'fact request'))
    .join('');
}

/** The lock after the read names another batch than before it (held, or a new serial). */
function tornBy(lines: readonly string[], end: LockFact): boolean {
  const first = lines.find((line) => /^\d+\tlock\t/.test(line));
  if (first === undefined) return false;
  const start = parseLock(first.split('\t').slice(1));
  return end.state === 'held' || end.serial !== start.serial;
}

/** A path of a torn read: what it was, or absent when it was caught mid-change. */
function storeTornPath(facts: HostFacts, request: FactRequest, fields: readonly string[]): void {
  try {
    storeAnswer(facts, request, fields);
  } catch {
    if (request.kind === 'path') facts.paths.set(request.path, { kind: 'absent' });
  }
}

/** Parses the read script's output into facts for exactly the requests sent. */
export function parseFacts(
  requests: readonly FactRequest[],
  output: string,
): HostFacts & { uid: number } {
  const facts = emptyFacts();
  let uid = -1;
  let ended = false;
  const answered = new Set<number>();
  const lines = output.split('\n');
  // A batch that took the host's lock while the read went on may have changed what was read:
  // the read is then torn, and the lock says so (held); a file caught mid-change is no error.
  const after = lines.find((line) => line.startsWith('lock-after\t'));
  const end = after !== undefined ? parseLock(after.split('\t')) : undefined;
  const torn = end !== undefined && tornBy(lines, end);
  for (const line of lines) {
    if (line === '' || line.startsWith('lock-after\t')) continue;
    const [head = '', ...fields] = line.split('\t');
    if (head === 'whoami') {
      uid = Number(fields[0]);
      continue;
    }
    if (head === 'end') {
      ended = true;
      continue;
    }
    const index = Number(head);
    const request = requests[index];
    if (!request) throw new HostReadError(`unexpected line from the host: ${line.slice(0, 80)}`);
    answered.add(index);
    if (end && torn && request.kind === 'lock') {
      facts.locks?.set(request.path, {
        ...end,
        state: 'held',
        serial: parseLock(fields).serial,
        torn,
      });
    } else if (torn && request.kind === 'path') {
      storeTornPath(facts, request, fields);
    } else {
      storeAnswer(facts, request, fields);
    }
  }
  if (!ended || answered.size !== requests.length) {
    throw new HostReadError(
      `the host's answer to the fact read was cut short (${answered.size} of ${requests.length} answers)`,
    );
  }
  return { ...facts, uid };
}

export interface GatherOptions {
  /**
   * Wraps the read program into the command line that runs it as root (adds sudo when needed),
   * with its own text as $1 (see hostProgramLine).
   */
  commandLine: (script: string) => string;
  timeoutMs?: number;
}

/** How long the read may wait for the host's lock, on top of its own time. */
function waitMs(requests: readonly FactRequest[]): number {
  const lock = requests.find((r) => r.kind === 'lock');
  return lock?.kind === 'lock' ? (lock.waitSeconds ?? 0) * 1000 : 0;
}

/** One round trip: every fact every task asked for. */
export async function gatherFacts(
  executor: Executor,
  requests: readonly FactRequest[],
  options: GatherOptions,
): Promise<HostFacts & { uid: number }> {
  // The lock first: a read that waits for it reads everything else after the wait.
  const unique = dedupeRequests(requests).sort(
    (a, b) => Number(b.kind === 'lock') - Number(a.kind === 'lock'),
  );
  const result = await executor.exec(options.commandLine(READ_PROGRAM), {
    stdin: encodeRequests(unique),
    timeoutMs: (options.timeoutMs ?? 60_000) + waitMs(unique),
  });
  if (result.timedOut) throw new HostReadError('reading the host state timed out');
  if (result.exitCode !== 0) {
    throw new HostReadError(describeFailure(result.exitCode, result.stderr.toString('utf8')));
  }
  return parseFacts(unique, result.stdout.toString('utf8'));
}

/** Turns a failed batch's stderr into a message, recognising sudo's password prompt. */
export function describeFailure(exitCode: number | null, stderr: string): string {
  if (/sudo: (a password is required|a terminal is required)/.test(stderr)) {
    return 'sudo asked for a password: `become: sudo` needs passwordless sudo (NOPASSWD) for the login user, or log in as root with `become: none`';
  }
  const text = stderr.trim().split('\n').slice(-5).join('\n');
  return `command failed with exit code ${exitCode ?? 'none'}${text ? `: ${text}` : ''}`;
}
