import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { Argv } from 'yargs';
import { readGenerations } from '../../facts/generations.js';
import { loadInventory } from '../../inventory/load.js';
import { selectHosts } from '../../inventory/limit.js';
import type { GenerationsEntry } from '../../report/generations-view.js';
import { errorMessage, isUnreachable } from '../../runner/host-errors.js';
import { openSession, scriptCommandLine } from '../../runner/open-session.js';
import { GENERATIONS_DIR } from '../../../tasks/lib/layout.js';
import { forksForThisProcess } from '../open-files.js';
import { checkForks, forksOption, hostSelectionOptions } from '../options.js';

export interface GenerationsArgs {
  inventory: string[];
  limit?: string | undefined;
  extraVars?: string[] | undefined;
  forks: number;
  json: boolean;
}

/**
 * Per host, the generations it keeps: number, time, release, who, and which files differ from
 * the one before (names only); the current one marked. Read-only, one round trip per host.
 */
export async function generationsCommand(args: GenerationsArgs): Promise<number> {
  checkForks(args.forks);
  // Nothing of the inventory's values reaches the hosts here: secrets are not resolved.
  const inventory = await loadInventory(args.inventory, {
    ...(args.extraVars ? { extraVars: args.extraVars } : {}),
    resolveSecrets: false,
  });
  const hosts = selectHosts(inventory, args.limit);
  const fit = forksForThisProcess(args.forks, hosts.length);
  if (fit.warning !== undefined) process.stderr.write(`${fit.warning}\n`);
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const limit = pLimit(fit.forks);
  const entries = await Promise.all(
    hosts.map((host) =>
      limit(async (): Promise<GenerationsEntry> => {
        let opened;
        try {
          opened = await openSession(host, signal);
        } catch (error) {
          return {
            host: host.name,
            status: isUnreachable(error) ? 'unreachable' : 'failed',
            message: errorMessage(error),
          };
        }
        const { session, become } = opened;
        try {
          const generations = await readGenerations(session, GENERATIONS_DIR, (script) =>
            scriptCommandLine(script, become),
          );
          return { host: host.name, status: 'ok', generations };
        } catch (error) {
          return {
            host: host.name,
            status: isUnreachable(error) ? 'unreachable' : 'failed',
            message: errorMessage(error),
          };
        } finally {
          session.close();
        }
      }),
    ),
  );
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
      forksOption(hostSelectionOptions(y)).option('json', {
        type: 'boolean',
        default: false,
        description: 'print one JSON document on stdout instead of the tables',
      }),
    async (argv) => {
      setExit(
        await generationsCommand({
          inventory: argv.inventory,
          limit: argv.limit,
          extraVars: argv['extra-vars'],
          forks: argv.forks,
          json: argv.json,
        }),
      );
    },
  );
}
