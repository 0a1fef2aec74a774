import { hideBin } from 'yargs/helpers';
import yargs from 'yargs';
import { UserError } from '../errors.js';

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
