import { describe, expect, it } from 'vitest';
import { APPLY_RESULT } from '../apply/apply-output.js';
import { emptyFacts } from '../facts/gather.js';
import { describeCutOff } from './cut-off.js';

function withResult(text: string | undefined) {
  const facts = emptyFacts();
  facts.paths.set(
    APPLY_RESULT,
    text === undefined
      ? { kind: 'absent' }
      : {
          kind: 'file',
          mode: 0o600,
          user: 'root',
          group: 'root',
          uid: 0,
          gid: 0,
          mtimeMs: 0,
          size: text.length,
          text,
        },
  );
  return facts;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('describeCutOff', () => {
  it('says nothing when no batch lost its session', () => {
    expect(describeCutOff(withResult(undefined))).toBeUndefined();
  });

  it('says how the batch ended on the host', () => {
    expect(describeCutOff(withResult('0\tok\n1\tok\nend\n'))).toMatch(
      /went on by itself and finished: every change applied and healthy$/,
    );
    expect(
      describeCutOff(
        withResult(`0\tok\nrollback\tbegin\nrollback\tok\n4\tfail\t${b64('unit is failed')}\n`),
      ),
    ).toMatch(/rolled back to the state before it \(its health check failed: unit is failed\)$/);
    expect(describeCutOff(withResult(`0\tok\n2\tfail\t${b64('disk full')}\n`))).toMatch(
      /failed: disk full$/,
    );
    expect(describeCutOff(withResult('0\tok\n'))).toMatch(/did not finish/);
  });
});
