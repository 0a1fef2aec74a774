import { APPLY_RESULT, parseApplyOutput } from '../apply/apply-output.js';
import { parseKeyValues } from '../facts/gather.js';
import type { FactRequest, HostFacts } from '../facts/types.js';
import { describeHolder } from './host-lock.js';

/**
 * What a batch whose SSH session broke leaves on the host (src/apply/detach.sh): its output, in
 * APPLY_RESULT. The batch itself went on to its end; the next run's read finds this and says how
 * it ended, until a later batch replaces it.
 */
/** A link to the result of the last batch that took the lock; dangling once it was streamed whole. */
export function cutOffFacts(): FactRequest[] {
  return [{ kind: 'path', path: APPLY_RESULT, content: true, follow: true }];
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** How a batch that lost its session ended on the host, for people; undefined when none did. */
export function describeCutOff(facts: HostFacts): string | undefined {
  const fact = facts.paths.get(APPLY_RESULT);
  if (fact?.kind !== 'file') return undefined;
  const output = parseApplyOutput(fact.text ?? '');
  // The batch's lock line names the run that lost it; the batch let go of the lock as it ended.
  const taken = output.lock?.taken;
  const whose = taken !== undefined ? ` (by ${describeHolder(parseKeyValues(taken))})` : '';
  const lead = `an earlier run${whose} lost this host during its apply (its batch held the host's lock until it ended); the batch went on by itself and`;
  const { rollback, failure } = output;
  if (rollback) {
    const why = failure ? `: ${firstLine(failure.message)}` : '';
    return rollback.failure === undefined
      ? `${lead} rolled back to the state before it (its health check failed${why})`
      : `${lead} failed its health check, and the rollback failed too: ${firstLine(rollback.failure)}`;
  }
  if (failure) return `${lead} failed: ${firstLine(failure.message)}`;
  if (output.ended) return `${lead} finished: every change applied and healthy`;
  if (output.interrupted) return `${lead} stopped at a task boundary (interrupted)`;
  return `${lead} did not finish (the host may have restarted while it ran)`;
}
