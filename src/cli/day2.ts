import type { Argv } from 'yargs';
import { loadInventory } from '../inventory/load.js';
import { selectHosts } from '../inventory/limit.js';
import type { HostSpec } from '../inventory/types.js';
import { selectShard } from '../runner/shard.js';
import { forksForThisProcess } from './open-files.js';
import {
  checkForks,
  forksOption,
  hostSelectionOptions,
  jsonOption,
  shardOption,
} from './options.js';

/**
 * What exec, logs and restart share with run: -i, -l, -e, -f/--forks, --shard and --json. `logs`
 * spells --forks out: its -f is --follow, as in `journalctl -f`.
 */
export function day2Options<T>(yargs: Argv<T>, json: string, shortForks = true) {
  return jsonOption(shardOption(forksOption(hostSelectionOptions(yargs), shortForks)), json);
}

/** The end of each day-2 command's --help: what it shares with run, and what it costs. */
export function day2Epilogue(ctrlC: string, extra = ''): string {
  return [
    "As run: the inventory's connections, host-key checks, bastions and become (sudo -n).",
    'Cost: one SSH connection and one round trip per host.',
    `Ctrl-C: ${ctrlC}; a second Ctrl-C quits at once.`,
    'Exit codes: 0 every host ok, 1 bad invocation or inventory (no host contacted), 2 a host failed, 4 a host unreachable (none failed), 130 interrupted.',
    ...(extra === '' ? [] : [extra]),
  ].join('\n');
}

export interface HostSelectionArgs {
  inventory: string[];
  limit?: string | undefined;
  extraVars?: string[] | undefined;
  shard?: string | undefined;
  forks: number;
}

/** The options every day-2 command shares, read off its parsed argv (day2Options). */
export function day2Args(argv: {
  inventory: string[];
  limit?: string | undefined;
  'extra-vars'?: string[] | undefined;
  forks: number;
  shard?: string | undefined;
  json: boolean;
}): HostSelectionArgs & { json: boolean } {
  return {
    inventory: argv.inventory,
    limit: argv.limit,
    extraVars: argv['extra-vars'],
    forks: argv.forks,
    shard: argv.shard,
    json: argv.json,
  };
}

/**
 * The hosts a day-2 command contacts, and how many at once, chosen as run chooses them (the
 * inventory with -e, --limit, --shard; --forks within `ulimit -n`, lowered with a warning). Every
 * mistake is exit 1 before any host is contacted. Secrets are not resolved: these commands
 * deploy none, so a missing API key in the environment must not stop a `logs`.
 */
export async function selectDay2Hosts(
  args: HostSelectionArgs,
): Promise<{ hosts: HostSpec[]; forks: number }> {
  checkForks(args.forks);
  const inventory = await loadInventory(args.inventory, {
    ...(args.extraVars ? { extraVars: args.extraVars } : {}),
    resolveSecrets: false,
  });
  let hosts = selectHosts(inventory, args.limit);
  if (args.shard !== undefined) hosts = selectShard(hosts, args.shard);
  const fit = forksForThisProcess(args.forks, hosts.length);
  if (fit.warning !== undefined) process.stderr.write(`${fit.warning}\n`);
  return { hosts, forks: fit.forks };
}
