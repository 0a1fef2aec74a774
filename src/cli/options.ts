import type { Argv } from 'yargs';
import { UserError } from '../errors.js';

/**
 * Option builders shared by every command that reads an inventory (validate, inventory, run,
 * status), so the flags mean the same everywhere.
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

export function forksOption<T>(yargs: Argv<T>) {
  return yargs.option('forks', {
    alias: 'f',
    type: 'number',
    default: 50,
    description: 'hosts in parallel',
  });
}

/** --forks is a whole number of hosts, at least one (2.5 or NaN are refused before any host). */
export function checkForks(forks: number): void {
  if (!Number.isInteger(forks) || forks < 1) {
    throw new UserError(`--forks ${forks}: must be a whole number of at least 1`);
  }
}
