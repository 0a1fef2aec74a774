import type { Argv } from 'yargs';
import { UserError } from '../errors.js';
import { checkForks, type HostSelectionArgs } from '../runner/select-hosts.js';

/**
 * Option builders shared by every command that reads an inventory (validate, inventory, run,
 * status, …), so the flags mean the same everywhere; and, beside each, what reads or checks its
 * value. A command adds a shared flag by chaining its builder in its own `register…`.
 */

export function inventoryOption<T>(yargs: Argv<T>) {
  return yargs.option('inventory', {
    alias: 'i',
    type: 'string',
    array: true,
    nargs: 1,
    demandOption: 'give the inventory with -i FILE',
    description: 'inventory file (repeatable: later files add hosts and override earlier ones)',
  });
}

export function limitOption<T>(yargs: Argv<T>) {
  return yargs.option('limit', {
    alias: 'l',
    type: 'string',
    requiresArg: true,
    description:
      'select hosts: name, group, glob (web*), ~regex; a:b or a,b union, a:&b intersection, a:!b exclusion; @file',
  });
}

export function extraVarsOption<T>(yargs: Argv<T>) {
  return yargs.option('extra-vars', {
    alias: 'e',
    type: 'string',
    array: true,
    nargs: 1,
    description: 'key.path=value (value as YAML) or @file.yaml; highest precedence (repeatable)',
  });
}

/** -i, -l and -e together. */
export function hostSelectionOptions<T>(yargs: Argv<T>) {
  return extraVarsOption(limitOption(inventoryOption(yargs)));
}

/** --instance NAME (repeatable): only these instances of `instances:`, on the hosts that have them. */
export function instanceOption<T>(yargs: Argv<T>) {
  return yargs.option('instance', {
    type: 'string',
    array: true,
    nargs: 1,
    description:
      'only this instance (a key of instances:), on the hosts that have it (repeatable; default: every instance)',
  });
}

/** --forks, and -f unless the command gives -f another meaning (logs: -f is --follow). */
export function forksOption<T>(yargs: Argv<T>, short = true) {
  return yargs.option('forks', {
    ...(short ? { alias: 'f' } : {}),
    type: 'number',
    default: 50,
    description: 'hosts in parallel',
  });
}

/**
 * The host selection read off a parsed argv (hostSelectionOptions, forksOption and, where the
 * command has it, shardOption), for hostsToContact.
 */
export function hostSelectionArgs(argv: {
  inventory: string[];
  limit?: string | undefined;
  'extra-vars'?: string[] | undefined;
  forks: number;
  shard?: string | undefined;
  instance?: string[] | undefined;
}): HostSelectionArgs {
  return {
    inventory: argv.inventory,
    limit: argv.limit,
    extraVars: argv['extra-vars'],
    forks: argv.forks,
    shard: argv.shard,
    instances: argv.instance,
  };
}

export function shardOption<T>(yargs: Argv<T>) {
  return yargs.option('shard', {
    type: 'string',
    description: 'run only shard I of N (I/N), a stable split by host name',
  });
}

export function jsonOption<T>(yargs: Argv<T>, description: string) {
  return yargs.option('json', { type: 'boolean', default: false, description });
}

/** --serial and --max-fail-percentage: a rolling run (run, restart). */
export function rollingOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('serial', {
      type: 'string',
      description: 'rolling: hosts in batches of N or N%; a batch with a failed host ends it',
    })
    .option('max-fail-percentage', {
      type: 'number',
      description: 'with --serial: stop starting batches once more than N% of hosts failed',
    });
}

/** What run, rollback and restart (the commands that change a host) share: the host's lock. */
export function lockOptions<T>(yargs: Argv<T>) {
  return yargs.option('wait-lock', {
    type: 'number',
    default: 0,
    description:
      "wait up to SECONDS for another run holding a host's lock to finish (default: that host fails at once)",
  });
}

/** --wait-lock is a number of seconds, from 0; refused before any host. */
export function checkWaitLock(seconds: number | undefined): void {
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 0 && seconds <= 86_400)) {
    throw new UserError(`--wait-lock ${seconds}: expected a number of seconds from 0 to 86400`);
  }
}

/** --serial is a number of hosts (2) or a percentage (25%); refused before any host. */
export function checkSerial(serial: string | undefined): void {
  if (serial !== undefined && !/^[1-9]\d*%?$/.test(serial)) {
    throw new UserError(`--serial ${serial}: expected a number of hosts (2) or a percentage (25%)`);
  }
}

export function checkMaxFailPercentage(pct: number | undefined): void {
  if (pct !== undefined && (!(pct >= 0) || pct > 100)) {
    throw new UserError(`--max-fail-percentage ${pct}: must be between 0 and 100`);
  }
}

/**
 * What a command that changes hosts (run, restart, rollback) checks before it reads the
 * inventory: its rolling flags, --forks and --wait-lock.
 */
export function checkRollingArgs(args: {
  serial?: string | undefined;
  forks: number;
  maxFailPercentage?: number | undefined;
  waitLock?: number | undefined;
}): void {
  checkSerial(args.serial);
  checkForks(args.forks);
  checkMaxFailPercentage(args.maxFailPercentage);
  checkWaitLock(args.waitLock);
}
