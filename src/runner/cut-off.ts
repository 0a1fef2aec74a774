import { parseKeyValues } from '../facts/gather.js';
import type { FactRequest, HostFacts } from '../facts/types.js';
import { describeHolder } from './host-lock.js';

/**
 * What a batch whose SSH session broke leaves on the host (src/apply/detach.sh): its output.
 * The batch itself went on to its end; the next run's read finds this and says how it ended,
 * until a later batch replaces it.
 */
export const CUT_OFF_RESULT = '/var/lib/hermes-fleet/apply/result';

/** A link to the result of the last batch that took the lock; dangling once it was streamed whole. */
export function cutOffFacts(): FactRequest[] {
  return [{ kind: 'path', path: CUT_OFF_RESULT, content: true, follow: true }];
}

function decodedAll(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8');
}

function decoded(b64: string): string {
  return Buffer.from(b64, 'base64').toString('utf8').split('\n')[0] ?? '';
}

/** How a batch that lost its session ended on the host, for people; undefined when none did. */
export function describeCutOff(facts: HostFacts): string | undefined {
  const fact = facts.paths.get(CUT_OFF_RESULT);
  if (fact?.kind !== 'file') return undefined;
  const lines = (fact.text ?? '').split('\n').filter((l) => l !== '');
  // The batch's lock line names the run that lost it; the batch let go of the lock as it ended.
  const taken = lines.find((l) => l.startsWith('lock\ttaken\t'))?.split('\t')[2];
  const whose =
    taken !== undefined ? ` (by ${describeHolder(parseKeyValues(decodedAll(taken)))})` : '';
  const lead = `an earlier run${whose} lost this host during its apply (its batch held the host's lock until it ended); the batch went on by itself and`;
  // `rollback<TAB>begin` only says it started (for the timeline); its outcome is the line after.
  const rollback = lines
    .find((l) => l.startsWith('rollback\t') && l !== 'rollback\tbegin')
    ?.split('\t');
  const failed = lines.find((l) => /^\d+\tfail\t/.test(l))?.split('\t');
  if (rollback) {
    const why = failed ? `: ${decoded(failed[2] ?? '')}` : '';
    return rollback[1] === 'ok'
      ? `${lead} rolled back to the state before it (its health check failed${why})`
      : `${lead} failed its health check, and the rollback failed too: ${decoded(rollback[2] ?? '')}`;
  }
  if (failed) return `${lead} failed: ${decoded(failed[2] ?? '')}`;
  if (lines.includes('end')) return `${lead} finished: every change applied and healthy`;
  if (lines.includes('interrupted')) return `${lead} stopped at a task boundary (interrupted)`;
  return `${lead} did not finish (the host may have restarted while it ran)`;
}
