import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from './shell-quote.js';

const hostile = [
  'plain',
  '',
  'two words',
  "it's",
  '$(id)',
  '`id`',
  '${HOME}',
  '"q"',
  'a\\b',
  ';',
  '*',
  'new\nline',
  '-x',
  '~',
];

describe('shellQuote', () => {
  it('passes harmless words and quotes the rest', () => {
    expect(shellQuote('--network=host')).toBe('--network=host');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('reads back exactly through /bin/sh', () => {
    const script = `printf '%s\\0' ${hostile.map(shellQuote).join(' ')}`;
    const out = execFileSync('/bin/sh', ['-c', script]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual(hostile);
  });
});
