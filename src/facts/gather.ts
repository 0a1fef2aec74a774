import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import { namedLine } from '../exec/line-field.js';
import {
  emptyFacts,
  factKindOf,
  HostReadError,
  mergeRequests,
  requestKey,
  storeAnswer,
} from './fact-kinds.js';
import READ_SH from './read.sh';
import type { FactRequest, HostFacts } from './types.js';

export { emptyFacts, HostReadError } from './fact-kinds.js';

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

/** Parses the read script's output into facts for exactly the requests sent. */
export function parseFacts(
  requests: readonly FactRequest[],
  output: string,
): HostFacts & { uid: number } {
  const facts = emptyFacts();
  let uid = -1;
  let ended = false;
  const answered = new Set<number>();
  for (const line of output.split('\n')) {
    if (line === '') continue;
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
    storeAnswer(facts, request, fields);
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

/** One round trip: every fact every task asked for. */
export async function gatherFacts(
  executor: Executor,
  requests: readonly FactRequest[],
  options: GatherOptions,
): Promise<HostFacts & { uid: number }> {
  const unique = dedupeRequests(requests);
  const result = await executor.exec(options.commandLine(READ_PROGRAM), {
    stdin: encodeRequests(unique),
    timeoutMs: options.timeoutMs ?? 60_000,
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
