import { stdinText } from '../../test/utils/stdin.js';
import { describe, expect, it } from 'vitest';
import type { Executor } from '../exec/executor.js';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { encodeRequests, gatherFacts, HostReadError } from './gather.js';
import { READ_SH } from './program.js';
import { FACT_SAMPLES as EVERY_KIND } from '../../test/utils/fact-samples.js';

const sh = (script: string) => `sh -c ${quote(script)}`;

/** The fields read.sh knows: its FIELDS (the joined program, as sent). */
function knownFields(program: string): string[] {
  const list = /^FIELDS='([^']*)'$/m.exec(program)?.[1] ?? '';
  return list.split(' ').filter(Boolean);
}

describe('the fields of a fact request (read.sh, a real local shell)', () => {
  it('sends only fields read.sh knows, for every request kind', () => {
    const known = knownFields(READ_SH);
    expect(known.length).toBeGreaterThan(0);
    const sent = encodeRequests(Object.values(EVERY_KIND))
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => line.split('\t').slice(2))
      .map((field) => field.slice(0, field.indexOf('=')));
    expect(sent.filter((name) => !known.includes(name))).toEqual([]);
  });

  it('refuses a request with a field it does not know: the read fails and says which', async () => {
    // The line as a newer or buggy controller might write it, one field more than read.sh knows.
    const extraField: Executor = {
      exec: (command, request = {}) =>
        localExecutor.exec(command, {
          ...request,
          stdin: stdinText(request.stdin).replace('\n', '\tcolour=blue\n'),
        }),
    };
    const read = gatherFacts(extraField, [{ kind: 'path', path: '/etc/hostname' }], {
      commandLine: sh,
    });
    await expect(read).rejects.toThrow(HostReadError);
    await expect(read).rejects.toThrow(
      'command failed with exit code 2: hermes-fleet read.sh: unknown field colour in fact request path',
    );
  });
});
