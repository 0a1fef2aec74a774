import type { Argv } from 'yargs';

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
