import type { Argv } from 'yargs';

export async function printSchema(write: (text: string) => void): Promise<void> {
  const { inventoryJsonSchema } = await import('../../inventory/json-schema.js');
  write(`${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`);
}

export function registerSchema(cli: Argv): void {
  cli.command(
    'schema',
    'print the JSON Schema of the inventory (for editors: yaml-language-server)',
    (yargs) => yargs,
    async () => {
      await printSchema((text) => process.stdout.write(text));
    },
  );
}
