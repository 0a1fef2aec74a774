import type { Argv } from 'yargs';
import { extraVarsOption, inventoryOption } from '../options.js';

export interface ValidateArgs {
  inventory: readonly string[];
  extraVars?: readonly string[] | undefined;
}

/** Loads the inventory with every secret evaluated, to prove a run could start; no host is contacted. */
export async function validate(args: ValidateArgs, write: (text: string) => void): Promise<void> {
  const { loadInventory } = await import('../../inventory/load.js');
  const inventory = await loadInventory(args.inventory, {
    extraVars: args.extraVars ?? [],
    resolveSecrets: true,
  });
  const names = inventory.hosts.map((host) => host.name);
  const shown = names.length > 20 ? [...names.slice(0, 20), `… ${names.length - 20} more`] : names;
  const noun = names.length === 1 ? 'host' : 'hosts';
  write(`ok: ${names.length} ${noun} (${shown.join(', ')})\n`);
}

export function registerValidate(cli: Argv): void {
  cli.command(
    'validate',
    'check the inventory offline: schema, local files, secrets (contacts no host)',
    (yargs) => extraVarsOption(inventoryOption(yargs)),
    async (argv) => {
      await validate({ inventory: argv.inventory, extraVars: argv['extra-vars'] }, (text) =>
        process.stdout.write(text),
      );
    },
  );
}
