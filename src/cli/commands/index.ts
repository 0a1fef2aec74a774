import type { Argv } from 'yargs';
import { registerExec } from './exec.js';
import { registerGenerations } from './generations.js';
import { registerInventory } from './inventory.js';
import { registerLogs } from './logs.js';
import { registerReport } from './report.js';
import { registerRestart } from './restart.js';
import { registerRollback } from './rollback.js';
import { registerRun } from './run.js';
import { registerSchema } from './schema.js';
import { registerStatus } from './status.js';
import { registerUnlock } from './unlock.js';
import { registerValidate } from './validate.js';

/** Registers every command on the yargs instance; `setExit` carries a command's exit code out. */
export function registerCommands(cli: Argv, setExit: (code: number) => void): void {
  registerRun(cli, setExit);
  registerValidate(cli);
  registerInventory(cli);
  registerSchema(cli);
  registerStatus(cli, setExit);
  registerExec(cli, setExit);
  registerLogs(cli, setExit);
  registerRestart(cli, setExit);
  registerGenerations(cli, setExit);
  registerRollback(cli, setExit);
  registerUnlock(cli, setExit);
  registerReport(cli, setExit);
}
