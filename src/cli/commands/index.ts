import type { Argv } from 'yargs';

/** Registers every command on the yargs instance; `setExit` carries a command's exit code out. */
export function registerCommands(_cli: Argv, _setExit: (code: number) => void): void {
  // Commands are added here as they land.
}
