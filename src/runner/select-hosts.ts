import { UserError } from '../errors.js';
import { selectHosts } from '../inventory/limit.js';
import { loadInventory } from '../inventory/load.js';
import { hostInstances, type HostSpec, type Inventory } from '../inventory/types.js';
import { forksForThisProcess } from './open-files.js';
import { selectShard } from './shard.js';

/** -i, -l, -e, --shard and --forks: what every command that contacts hosts is given. */
export interface HostSelectionArgs {
  inventory: string[];
  limit?: string | undefined;
  extraVars?: string[] | undefined;
  /** `I/N`; unset for the commands that have no --shard (status, generations). */
  shard?: string | undefined;
  forks: number;
  /** `--instance NAME` (repeatable): only these instances, on the hosts that have them. */
  instances?: string[] | undefined;
  /** `run --purge-removed-instances`: the state of instances dropped from the inventory goes. */
  purgeRemovedInstances?: boolean | undefined;
  /** `run --release-from-controller`: a release `url` is downloaded here and uploaded. */
  releaseFromController?: boolean | undefined;
}

export interface HostSelection {
  inventory: Inventory;
  hosts: HostSpec[];
  /** --forks, lowered to what `ulimit -n` allows. */
  forks: number;
}

/** --forks is a whole number of hosts, at least one (2.5 or NaN are refused before any host). */
export function checkForks(forks: number): void {
  if (!Number.isInteger(forks) || forks < 1) {
    throw new UserError(`--forks ${forks}: must be a whole number of at least 1`);
  }
}

/**
 * The hosts a command contacts and how many at once, chosen the same way for every command:
 * --forks checked, the inventory loaded with -e, --limit, then --shard; --forks lowered, with a
 * warning, when `ulimit -n` cannot hold one socket per host in flight (README, "## SSH"). Every
 * mistake is exit 1 before any host is contacted. `resolveSecrets`: only a command that deploys
 * secrets, or compares them (`status`), evaluates them; for the others a missing API key in the
 * environment must not stop the command.
 */
export async function hostsToContact(
  args: HostSelectionArgs,
  options: { resolveSecrets: boolean },
): Promise<HostSelection> {
  checkForks(args.forks);
  const inventory = await loadInventory(args.inventory, {
    ...(args.extraVars ? { extraVars: args.extraVars } : {}),
    resolveSecrets: options.resolveSecrets,
    ...(args.releaseFromController === true ? { releaseFromController: true } : {}),
  });
  let hosts = selectHosts(inventory, args.limit);
  if (args.shard !== undefined) hosts = selectShard(hosts, args.shard);
  hosts = selectInstances(hosts, args.instances);
  if (args.purgeRemovedInstances === true) {
    hosts = hosts.map((host) => ({ ...host, purgeRemovedInstances: true }));
  }
  const fit = forksForThisProcess(args.forks, hosts.length);
  if (fit.warning !== undefined) process.stderr.write(`${fit.warning}\n`);
  return { inventory, hosts, forks: fit.forks };
}

/**
 * `--instance NAME`: each host keeps the named instances it has, and a host with none of them is
 * not contacted. A name no selected host has is a mistake (exit 1), as a --limit that matches
 * nothing is.
 */
export function selectInstances(
  hosts: readonly HostSpec[],
  names: readonly string[] | undefined,
): HostSpec[] {
  if (names === undefined || names.length === 0) return [...hosts];
  for (const name of names) {
    if (!hosts.some((host) => hostInstances(host).some((h) => h.instance === name))) {
      throw new UserError(
        `--instance ${name}: no selected host has an instance of that name`,
        undefined,
        'the names are the keys of instances: in the inventory (hermes-fleet inventory -i FILE shows them)',
      );
    }
  }
  return hosts.flatMap((host) => {
    const narrowed = { ...host, onlyInstances: [...names] };
    const [first] = hostInstances(narrowed);
    return first ? [{ ...narrowed, hermes: first }] : [];
  });
}
