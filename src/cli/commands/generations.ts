import type { Argv } from 'yargs';
import { readGenerations } from '../../facts/generations.js';
import type { GenerationsEntry } from '../../report/generations-view.js';
import { onHosts } from '../../runner/fan-out.js';
import { errorMessage, isUnreachable } from '../../runner/host-errors.js';
import { scriptCommandLine } from '../../runner/open-session.js';
import { hostsToContact, type HostSelectionArgs } from '../../runner/select-hosts.js';
import { generationsDir } from '../../../tasks/lib/layout.js';
import { hostInstances, type HermesSettings } from '../../inventory/types.js';
import {
  forksOption,
  hostSelectionArgs,
  hostSelectionOptions,
  instanceOption,
  jsonOption,
} from '../options.js';

export interface GenerationsArgs extends HostSelectionArgs {
  json: boolean;
}

/**
 * Per host, the generations it keeps: number, time, release, who, and which files differ from
 * the one before (names only); the current one marked. Read-only, one round trip per host.
 */
export async function generationsCommand(args: GenerationsArgs): Promise<number> {
  // Nothing of the inventory's values reaches the hosts here: secrets are not resolved.
  const { hosts, forks } = await hostsToContact(args, { resolveSecrets: false });
  const entries = await onHosts({ forks }, (fanOut) =>
    fanOut.each(hosts, async (host): Promise<GenerationsEntry[]> => {
      // One entry per instance (one for hermes: alone), each its own generations.
      const instances = hostInstances(host);
      const named = (h: HermesSettings) =>
        h.instance === undefined ? {} : { instance: h.instance };
      const failed = (error: unknown): GenerationsEntry[] =>
        instances.map((h) => ({
          host: host.name,
          ...named(h),
          status: isUnreachable(error) ? 'unreachable' : 'failed',
          message: errorMessage(error),
        }));
      let opened;
      try {
        opened = await fanOut.open(host);
      } catch (error) {
        return failed(error);
      }
      const { session, become } = opened;
      try {
        const entries: GenerationsEntry[] = [];
        for (const h of instances) {
          const generations = await readGenerations(session, generationsDir(h), (script) =>
            scriptCommandLine(script, become),
          );
          entries.push({ host: host.name, ...named(h), status: 'ok', generations });
        }
        return entries;
      } catch (error) {
        return failed(error);
      } finally {
        session.close();
      }
    }),
  ).then((rows) => rows.flat());
  const { formatGenerations, generationsExitCode, toGenerationsReport } =
    await import('../../report/generations-view.js');
  process.stdout.write(
    args.json
      ? `${JSON.stringify(toGenerationsReport(entries), null, 2)}\n`
      : formatGenerations(entries),
  );
  return generationsExitCode(entries);
}

export function registerGenerations(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'generations',
    'per host: the generations it keeps (number, time, release, who, files changed), the current one marked (read-only)',
    (y) =>
      jsonOption(
        forksOption(instanceOption(hostSelectionOptions(y))),
        'print one JSON document on stdout instead of the tables',
      ),
    async (argv) => {
      setExit(await generationsCommand({ ...hostSelectionArgs(argv), json: argv.json }));
    },
  );
}
