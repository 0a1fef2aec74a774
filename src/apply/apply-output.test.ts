import { describe, expect, it } from 'vitest';
import { APPLY_RESULT, parseApplyLine, parseApplyOutput } from './apply-output.js';
import DETACH_SH from './detach.sh';
import LOCK_SH from './ops/lock.sh';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe("apply.sh's output", () => {
  it("is spooled where detach.sh keeps it: each batch its own, the lock holder's linked as result", () => {
    const spool = /^D=\$\{HERMES_FLEET_SPOOL:-(\/[^}]+)\}$/m.exec(DETACH_SH)?.[1];
    expect(DETACH_SH).toMatch(/^R=\$D\/result\.\$\$$/m);
    expect(DETACH_SH).toMatch(/^: >"\$R"$/m);
    expect(LOCK_SH).toMatch(/mv -Tf -- "\$rd\/\.result\.new" "\$rd\/result"/);
    expect(`${spool ?? ''}/result`).toBe(APPLY_RESULT);
  });

  it('parses each kind of line', () => {
    expect(parseApplyLine('end')).toEqual({ kind: 'end' });
    expect(parseApplyLine('interrupted')).toEqual({ kind: 'interrupted' });
    expect(parseApplyLine('3\tok')).toEqual({ kind: 'ok', index: 3 });
    expect(parseApplyLine(`4\tfail\t${b64('disk full\nmore')}`)).toEqual({
      kind: 'fail',
      index: 4,
      message: 'disk full\nmore',
    });
    expect(parseApplyLine('rollback\tok')).toEqual({ kind: 'rollback', outcome: {} });
    expect(parseApplyLine(`rollback\tfail\t${b64('no')}`)).toEqual({
      kind: 'rollback',
      outcome: { failure: 'no' },
    });
    expect(parseApplyLine('undo\tx')).toEqual({ kind: 'other' });
  });

  it('sums a whole output up', () => {
    expect(parseApplyOutput('0\tok\n1\tok\nend\n')).toEqual({
      done: 2,
      ended: true,
      interrupted: false,
    });
    expect(parseApplyOutput(`0\tok\nrollback\tok\n4\tfail\t${b64('unit failed')}\n`)).toEqual({
      done: 1,
      ended: false,
      interrupted: false,
      rollback: {},
      failure: { index: 4, message: 'unit failed' },
    });
    expect(parseApplyOutput('0\tok\ninterrupted\n')).toMatchObject({ done: 1, interrupted: true });
  });
});
