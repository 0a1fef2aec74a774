import type { Argv } from 'yargs';
import { unlockHost, type UnlockOutcome } from '../../apply/unlock.js';
import { UserError } from '../../errors.js';
import { parseKeyValues } from '../../facts/gather.js';
import { errorMessage, isUnreachable } from '../../runner/host-errors.js';
import { HOST_LOCK, describeHolder } from '../../runner/host-lock.js';
import { onHosts } from '../../runner/fan-out.js';
import { scriptCommandLine } from '../../runner/open-session.js';
import { hostsToContact, type HostSelectionArgs } from '../../runner/select-hosts.js';
import { oneLine } from '../../text.js';
import { day2Args, day2Epilogue, day2Options } from '../day2.js';

export interface UnlockArgs extends HostSelectionArgs {
  yes: boolean;
  wait: number;
  json: boolean;
}

/** A host's answer: what unlock found and did, or why it could not (then no outcome). */
interface UnlockEntry {
  host: string;
  /** `failed` also when a run still holds the lock after the wait. */
  status: 'ok' | 'failed' | 'unreachable';
  outcome?: UnlockOutcome;
  message?: string;
}

/** What happened on one host, for people. */
function describeOutcome(outcome: UnlockOutcome, waited: number): string {
  const holder = describeHolder(parseKeyValues(outcome.holder));
  switch (outcome.state) {
    case 'free':
      return 'not locked';
    case 'cleared':
      return `cleared the lock of ${holder}: its holder was gone`;
    case 'stopped':
      return `interrupted the run of ${holder}: it finished the step it was in and let go`;
    case 'held':
      return `still locked by ${holder} after ${waited} s: it is in a step that does not stop (a health wait, a long upload); wait for it, or unlock again`;
  }
}

/**
 * Lets go of the lock of each selected host by hand, as Kamal's `lock release` and Terraform's
 * `force-unlock` do: a lock left by a holder that is gone is cleared; a run that holds it is
 * interrupted as Ctrl-C interrupts it (it finishes the step it is in, a failed health check still
 * rolls back). Asks for --yes, because it ends another person's run.
 */
export async function unlockCommand(args: UnlockArgs): Promise<number> {
  if (!args.yes) {
    throw new UserError(
      "unlock interrupts the run that holds each selected host's lock (it finishes the step it is in, then stops), or clears a lock whose holder is gone",
      undefined,
      'see who holds them with hermes-fleet status, then add --yes',
    );
  }
  if (!(Number.isFinite(args.wait) && args.wait >= 0 && args.wait <= 3600)) {
    throw new UserError(`--wait ${args.wait}: expected a number of seconds from 0 to 3600`);
  }
  const { hosts, forks } = await hostsToContact(args, { resolveSecrets: false });
  const ctrlC = { note: 'interrupted: finishing the unlocks in flight, contacting no other host' };
  const entries = await onHosts({ forks, ctrlC }, (fanOut) =>
    fanOut.each(hosts, async (host): Promise<UnlockEntry> => {
      try {
        const { session, become } = await fanOut.open(host);
        try {
          const outcome = await unlockHost(session, {
            path: HOST_LOCK,
            waitSeconds: args.wait,
            commandLine: (script) => scriptCommandLine(script, become),
          });
          return { host: host.name, status: outcome.state === 'held' ? 'failed' : 'ok', outcome };
        } finally {
          session.close();
        }
      } catch (error) {
        return {
          host: host.name,
          status: isUnreachable(error) ? 'unreachable' : 'failed',
          message: errorMessage(error),
        };
      }
    }),
  );
  if (args.json) {
    const hostsOut = entries.map((e) =>
      e.outcome
        ? {
            host: e.host,
            status: e.status,
            state: e.outcome.state,
            holder: parseKeyValues(e.outcome.holder),
          }
        : { host: e.host, status: e.status, message: e.message },
    );
    process.stdout.write(
      `${JSON.stringify({ version: 1, command: 'unlock', hosts: hostsOut }, null, 2)}\n`,
    );
  } else {
    for (const e of entries) {
      const text = e.outcome
        ? describeOutcome(e.outcome, args.wait)
        : `${e.status}: ${e.message ?? ''}`;
      process.stdout.write(`${oneLine(e.host)}: ${text}\n`);
    }
  }
  if (entries.some((e) => e.status === 'failed')) return 2;
  if (entries.some((e) => e.status === 'unreachable')) return 4;
  return 0;
}

export function registerUnlock(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'unlock',
    "let go of each selected host's lock by hand: clear one whose holder is gone, interrupt the run that holds one (asks for --yes)",
    (y) =>
      day2Options(y, 'print one JSON document on stdout')
        .option('yes', {
          type: 'boolean',
          default: false,
          description: 'go ahead: interrupt the runs that hold the locks',
        })
        .option('wait', {
          type: 'number',
          default: 60,
          description: 'seconds to wait for an interrupted run to let go',
        })
        .epilogue(day2Epilogue('hosts finish the unlock in flight, no other host is contacted')),
    async (argv) => {
      setExit(await unlockCommand({ ...day2Args(argv), yes: argv.yes, wait: argv.wait }));
    },
  );
}
