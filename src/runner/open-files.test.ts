import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { fitForks, parseProcLimits, softOpenFileLimit } from './open-files.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('open-file limit', () => {
  it('reads the soft limit from /proc/<pid>/limits', () => {
    expect(parseProcLimits(LIMITS)).toBe(1024);
    expect(parseProcLimits(LIMITS.replace('1024 ', 'unlimited '))).toBeUndefined();
    expect(parseProcLimits('')).toBeUndefined();
  });

  it("finds this process's limit as the shell does", () => {
    const limit = softOpenFileLimit();
    if (limit !== undefined) expect(limit).toBeGreaterThan(0);
  });

  it('keeps --forks that fit', () => {
    expect(fitForks(50, 200, 1024, 40)).toEqual({ forks: 50 });
    expect(fitForks(500, 200, undefined, 40)).toEqual({ forks: 500 });
  });

  it('counts only the hosts that can run at once', () => {
    expect(fitForks(50, 3, 64, 40)).toEqual({ forks: 50 });
  });

  it('lowers --forks beyond the limit, with a warning that says how to raise it', () => {
    const fit = fitForks(100, 500, 100, 40);
    expect(fit.forks).toBe(60);
    expect(fit.warning).toMatch(
      /--forks 100 .*\(ulimit -n\) is 100 .* running 60 hosts in parallel/,
    );
    expect(fit.warning).toContain('ulimit -n 204');
  });

  it('fails when not even one host fits', () => {
    expect(() => fitForks(10, 10, 30, 40)).toThrow(UserError);
    expect(() => fitForks(10, 10, 30, 40)).toThrow(/ulimit -n\) is 30/);
  });
});
