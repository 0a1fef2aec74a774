import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dotenvKeys, dotenvProblem, encodeDotenvLine } from './dotenv.js';

const hostile = [
  'plain',
  "it's",
  'back\\slash',
  'double "quoted"',
  'multi\nline\nvalue',
  'carriage\r\nreturn',
  '$HOME and $(id) and `id`',
  'trailing space   ',
  '  leading',
  '# not a comment',
  'x # not a comment either',
  'mixed \' and " and \\ and \n',
  'EOF',
  'unicode: héllo ✓',
  '',
  '\\n literally',
  "\\'",
];

describe('encodeDotenvLine', () => {
  it('single-quotes simple values', () => {
    expect(encodeDotenvLine('A', 'hello world')).toBe("A='hello world'");
  });
  it('refuses what python-dotenv would change', () => {
    expect(dotenvProblem('A', 'x${HOME}y')).toMatch(/reference/);
    expect(dotenvProblem('A', 'a\0b')).toMatch(/NUL/);
    expect(dotenvProblem('1A', 'x')).toMatch(/valid environment variable name/);
    expect(() => encodeDotenvLine('A', '${X:-y}')).toThrow(/reference/);
    expect(dotenvProblem('A', '$HOME {x}')).toBeUndefined();
  });
  const python = '/usr/bin/python3';
  const haveDotenv =
    existsSync(python) &&
    (() => {
      try {
        execFileSync(python, ['-c', 'import dotenv'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
  if (!haveDotenv) {
    console.warn(
      '\n!!!! SKIPPED the python-dotenv round trip: no /usr/bin/python3 with python-dotenv; ' +
        'apt-get install python3 python3-dotenv (npm test does it when run as root) !!!!\n',
    );
  }
  it.skipIf(!haveDotenv)('round-trips hostile values through the real python-dotenv', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    const file = join(dir, '.env');
    const lines = hostile.map((v, i) => encodeDotenvLine(`K${i}`, v));
    writeFileSync(file, lines.join('\n') + '\n');
    const out = execFileSync(python, [
      '-c',
      'import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))',
      file,
    ]).toString();
    const parsed = JSON.parse(out) as Record<string, string>;
    hostile.forEach((v, i) => {
      expect(parsed[`K${i}`]).toBe(v);
    });
  });
});

describe('dotenvKeys', () => {
  it('maps keys to their raw values, later wins', () => {
    const keys = dotenvKeys("A='1'\n# c\nexport B=2\nA=3\n\nnot a line\n");
    expect([...keys.entries()]).toEqual([
      ['A', '3'],
      ['B', '2'],
    ]);
  });
});
