import type { Argv } from 'yargs';
import { UserError } from '../errors.js';
import { hostInstances, type HostSpec } from '../inventory/types.js';
import type { HostSelectionArgs } from '../runner/select-hosts.js';
import {
  forksOption,
  hostSelectionArgs,
  hostSelectionOptions,
  instanceOption,
  jsonOption,
  shardOption,
} from './options.js';

/**
 * What exec, logs and restart share with run: -i, -l, -e, --instance, -f/--forks, --shard and --json. `logs`
 * spells --forks out: its -f is --follow, as in `journalctl -f`.
 */
export function day2Options<T>(yargs: Argv<T>, json: string, shortForks = true) {
  return jsonOption(
    shardOption(forksOption(instanceOption(hostSelectionOptions(yargs)), shortForks)),
    json,
  );
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

/** The options every day-2 command shares, read off its parsed argv (day2Options). */
export function day2Args(
  argv: Parameters<typeof hostSelectionArgs>[0] & { json: boolean },
): HostSelectionArgs & { json: boolean } {
  return { ...hostSelectionArgs(argv), json: argv.json };
}

/**
 * `logs` and `exec --as service` reach one gateway per host (its log; its account): a host with
 * several instances selected is refused before any host is contacted.
 */
export function checkOneInstanceEach(hosts: readonly HostSpec[], what: string): void {
  for (const host of hosts) {
    const names = hostInstances(host).map((h) => h.instance);
    if (names.length > 1) {
      throw new UserError(
        `${what} reaches one gateway per host, and ${host.name} has instances ${names.join(', ')}`,
        undefined,
        'choose one with --instance NAME',
      );
    }
  }
}
