import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../errors.js';
import { expectNoSecret, sampleRun } from '../../../test/utils/run-results.js';
import { toLogLines } from '../../report/log.js';
import { reportCommand } from './report.js';

const context = { command: 'run', who: 'ci@builder', inventory: [] };

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'hermes-fleet-report-'));
}

async function userError(run: () => Promise<unknown>): Promise<string> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return (err as UserError).format();
}

describe('hermes-fleet report', () => {
  it('writes the page of the last run in a log', async () => {
    const d = dir();
    const log = join(d, 'fleet.jsonl');
    writeFileSync(
      log,
      toLogLines(sampleRun(), new Date('2026-05-02T09:00:00Z'), { context }) +
        toLogLines(sampleRun('check'), new Date('2026-05-02T10:00:00Z'), { context }),
    );
    const out = join(d, 'run.html');
    expect(await reportCommand({ log, output: out, last: 1 })).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('<title>hermes-fleet run --check 2026-05-02T10:00:00.000Z</title>');
    expectNoSecret(page);
  });

  it('says what is wrong with the log, the file or --last, and writes nothing', async () => {
    const d = dir();
    const log = join(d, 'bad.jsonl');
    writeFileSync(log, '{"not": "a log line"}\n');
    expect(await userError(() => reportCommand({ log, output: join(d, 'x.html'), last: 1 }))).toBe(
      `${log}: line 1: not a hermes-fleet --log line`,
    );
    expect(
      await userError(() => reportCommand({ log: join(d, 'none'), output: 'x', last: 1 })),
    ).toMatch(/cannot read it/);
    writeFileSync(log, '\n');
    expect(await userError(() => reportCommand({ log, output: 'x', last: 1 }))).toMatch(
      /no run in it/,
    );
    expect(await userError(() => reportCommand({ log, output: 'x', last: 0 }))).toMatch(/--last 0/);
  });
});
