import { hideBin } from 'yargs/helpers';
import yargs from 'yargs';
import { UserError } from '../errors.js';

/**
 * yargs renders a command's whole help text right after starting its handler, to have it ready
 * for a showHelp() the handler might call later. No handler here shows help (a mistake is a
 * UserError), and the rendering is about 30 ms of CPU spent before the first host is contacted.
 * `--help` renders it as before. (getInternalMethods is yargs' own, untyped.)
 */
function skipHelpCache(cli: object): void {
  const internal = cli as {
    getInternalMethods?: () => { getUsageInstance: () => { cacheHelpMessage?: () => void } };
  };
  const usage = internal.getInternalMethods?.().getUsageInstance();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

// Each command lives in its own module under ./commands and is registered here.
async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const { registerCommands } = await import('./commands/index.js');
  const cli = yargs(argv)
    .scriptName('hermes-fleet')
    .strict()
    .demandCommand(1, 'Say which command to run (see --help).')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs passes `err` for exceptions thrown in handlers and `msg` for usage mistakes;
      // its own argument checks (e.g. `-i` without a file) arrive as a YError: a usage mistake.
      const error = err as Error | undefined;
      if (error !== undefined && error.name !== 'YError') throw error;
      throw new UserError(msg || (error?.message ?? 'invalid arguments'));
    });
  skipHelpCache(cli);
  registerCommands(cli, setExit);
  await cli.parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.format()}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(
      `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
