import { readFile, writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { UserError } from '../../errors.js';

export interface ReportArgs {
  log: string;
  output: string;
  /** How many of the newest runs in the log: 1 is the last run's page, more a history. */
  last: number;
}

/** `hermes-fleet report LOG.jsonl -o FILE`: the HTML page of the runs a `--log` file holds. */
export async function reportCommand(args: ReportArgs): Promise<number> {
  if (!Number.isInteger(args.last) || args.last < 1) {
    throw new UserError(`--last ${args.last}: a number of runs, from 1`);
  }
  let text: string;
  try {
    text = await readFile(args.log, 'utf8');
  } catch (error) {
    throw new UserError(`${args.log}: cannot read it (${(error as Error).message})`);
  }
  const { LogFormatError, pageRunsOfLog } = await import('../../report/html-model.js');
  const { renderHtml } = await import('../../report/html.js');
  let runs;
  try {
    runs = pageRunsOfLog(text, args.last);
  } catch (error) {
    if (error instanceof LogFormatError) throw new UserError(`${args.log}: ${error.message}`);
    throw error;
  }
  if (runs.length === 0) {
    throw new UserError(`${args.log}: no run in it`, undefined, 'write one with run --log FILE');
  }
  await writeFile(args.output, renderHtml(runs));
  return 0;
}

export function registerReport(cli: Argv, setExit: (code: number) => void): void {
  cli.command(
    'report <log>',
    'write the HTML page of the last run (or the last N runs) in a --log JSON-lines file',
    (y) =>
      y
        .positional('log', { type: 'string', demandOption: true, description: 'the --log file' })
        .option('output', {
          alias: 'o',
          type: 'string',
          demandOption: true,
          description: 'the HTML file to write',
        })
        .option('last', {
          type: 'number',
          default: 1,
          description: 'the newest N runs, as a history (each with its summary and timeline)',
        })
        .example('$0 report fleet.jsonl -o run.html', 'the last run as a web page')
        .example('$0 report fleet.jsonl --last 10 -o history.html', 'the last ten runs'),
    async (argv) => {
      setExit(await reportCommand({ log: argv.log, output: argv.output, last: argv.last }));
    },
  );
}
