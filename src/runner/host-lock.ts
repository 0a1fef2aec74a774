import type { Op } from '../apply/encode-ops.js';
import type { FactRequest, HostFacts, LockFact } from '../facts/types.js';
import type { TaskName } from '../plan/types.js';

/**
 * One run at a time changes a host. The lock is an flock on this root-owned file, taken by the
 * apply batch's first operation (`lock` in apply.sh) and held until the batch ends, also when it
 * goes on detached after its controller is gone; the file names the holder. The read asks for
 * it in the same round trip (so a run that finds it held fails before it plans, and `status`
 * shows it), and a serial beside it tells the batch whether another batch ran since the read:
 * nothing more costs a round trip.
 */
export const HOST_LOCK = '/var/lib/hermes-fleet/lock';

/** Who takes the lock: written into the lock file for whoever finds it held. */
export interface LockIdentity {
  /** user@controller, as the generations record it. */
  who: string;
  /** The hermes-fleet command: run, rollback, restart. */
  command: string;
  /** --wait-lock: how long to wait for a holder to finish (0: fail at once). */
  waitSeconds: number;
}

/**
 * A batch waits at least this long even when told not to wait: a reader's probe (a read,
 * `status`) holds a shared lock for an instant, and must never keep a batch out.
 */
const MIN_WAIT_SECONDS = 2;

/** The lock as a fact of the read; with `waitSeconds`, the read waits for a holder first. */
export function lockRequest(waitSeconds = 0): FactRequest {
  return { kind: 'lock', path: HOST_LOCK, ...(waitSeconds > 0 ? { waitSeconds } : {}) };
}

export function lockFact(facts: HostFacts): LockFact | undefined {
  return facts.locks?.get(HOST_LOCK);
}

/**
 * The batch's first operation: take the lock (waiting up to `waitSeconds`), refuse when the
 * serial moved since the read (`serial`; none for a batch planned without a read), and write
 * who holds it.
 */
export function lockOp(
  task: TaskName,
  identity: LockIdentity,
  options: { serial?: string; waitSeconds: number },
): Op {
  const body = Buffer.from(
    [
      `who=${oneLine(identity.who)}`,
      `command=hermes-fleet ${oneLine(identity.command)}`,
      `pid=${process.pid}`,
    ].join('\n'),
    'utf8',
  );
  return {
    task,
    name: 'lock',
    fields: {
      path: HOST_LOCK,
      seconds: String(Math.max(MIN_WAIT_SECONDS, Math.ceil(options.waitSeconds))),
      serial: options.serial,
      size: String(body.length),
    },
    body,
  };
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

/** Who holds a lock, for people: `alice@laptop (hermes-fleet run, pid 42) since … (12 s ago)`. */
export function describeHolder(holder: Record<string, string> | undefined, nowMs = Date.now()) {
  if (holder === undefined || holder.who === undefined) return 'another process';
  const what = [holder.command, holder.pid !== undefined ? `pid ${holder.pid}` : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
  const since = holder.since !== undefined ? ` since ${holder.since}` : '';
  const epoch = Number(holder.epoch);
  const age = Number.isFinite(epoch) && epoch > 0 ? ` (${formatAge(nowMs / 1000 - epoch)})` : '';
  return `${holder.who}${what ? ` (${what})` : ''}${since}${age}`;
}

function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** The message of a run refused because another one holds the host's lock. */
export function lockedMessage(holder: Record<string, string> | undefined, waited: number): string {
  const wait =
    waited > 0
      ? `still held after waiting ${waited} s (--wait-lock)`
      : 'wait for it with --wait-lock SECONDS';
  return `locked by ${describeHolder(holder)}: another run is applying to this host, and nothing was changed here; ${wait}, or see who holds it with hermes-fleet status`;
}

/** The message of a check that found the host mid-apply: half a state is not drift. */
export function midApplyMessage(holder: Record<string, string> | undefined): string {
  return `mid-apply: ${describeHolder(holder)} holds this host's lock, so its state is changing and it was not checked; check again once that run is done`;
}

/** What a batch says when it took the lock over from a holder that is gone. */
export function tookOverMessage(holder: Record<string, string>, bootNow: string): string {
  const gone =
    holder.boot !== undefined && bootNow !== '' && holder.boot !== bootNow
      ? 'the host rebooted since'
      : `its batch${holder.batch !== undefined ? ` (pid ${holder.batch} on the host)` : ''} is gone`;
  return `took over the lock of ${describeHolder(holder)}: ${gone}`;
}
