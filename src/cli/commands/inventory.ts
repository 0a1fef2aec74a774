import type { Argv } from 'yargs';
import { UserError } from '../../errors.js';
import { hostSelectionOptions } from '../options.js';

export interface InventoryArgs {
  inventory: readonly string[];
  extraVars?: readonly string[] | undefined;
  limit?: string | undefined;
  host?: string | undefined;
  json?: boolean | undefined;
  exportAnsible?: boolean | undefined;
}

/**
 * Prints each selected host's resolved settings. Secrets are not evaluated at all here: they
 * show as `<secret: SOURCE>`, so the output never holds a secret value.
 */
export async function showInventory(
  args: InventoryArgs,
  write: (text: string) => void,
): Promise<void> {
  if (args.exportAnsible) {
    const { exportAnsible } = await import('../../inventory/ansible-export.js');
    const { text, warnings } = await exportAnsible(args.inventory);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    write(text);
    return;
  }
  const [{ loadInventory }, { selectHosts }, { showHost }] = await Promise.all([
    import('../../inventory/load.js'),
    import('../../inventory/limit.js'),
    import('../../inventory/render.js'),
  ]);
  const inventory = await loadInventory(args.inventory, {
    extraVars: args.extraVars ?? [],
    resolveSecrets: false,
  });
  let hosts = selectHosts(inventory, args.limit);
  if (args.host !== undefined) {
    const wanted = args.host;
    hosts = hosts.filter((host) => host.name === wanted);
    if (hosts.length === 0) {
      const known = inventory.hosts.some((host) => host.name === wanted);
      throw new UserError(
        known ? `--host ${wanted}: not selected by --limit` : `--host ${wanted}: no such host`,
      );
    }
  }
  const out = Object.fromEntries(hosts.map((host) => [host.name, showHost(host)]));
  if (args.json) {
    write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const { stringify } = await import('yaml');
  write(stringify(out, { lineWidth: 0 }));
}

export function registerInventory(cli: Argv): void {
  cli.command(
    'inventory',
    'print the resolved settings of each selected host (secrets shown by source, never by value)',
    (yargs) =>
      hostSelectionOptions(yargs)
        .option('host', { type: 'string', requiresArg: true, description: 'only this host' })
        .option('json', { type: 'boolean', description: 'print JSON instead of YAML' })
        .option('export-ansible', {
          type: 'boolean',
          description:
            'print the hermes-fleet YAML inventory as an Ansible YAML inventory (hosts carry their merged settings)',
        }),
    async (argv) => {
      await showInventory(
        {
          inventory: argv.inventory,
          extraVars: argv['extra-vars'],
          limit: argv.limit,
          host: argv.host,
          json: argv.json,
          exportAnsible: argv['export-ansible'],
        },
        (text) => process.stdout.write(text),
      );
    },
  );
}
