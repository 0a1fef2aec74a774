import type { Argv } from 'yargs';
import { registerInventory } from './inventory.js';
import { registerSchema } from './schema.js';
import { registerValidate } from './validate.js';

/** Registers every command on the yargs instance; `setExit` carries a command's exit code out. */
export function registerCommands(cli: Argv, _setExit: (code: number) => void): void {
  registerValidate(cli);
  registerInventory(cli);
  registerSchema(cli);
}
