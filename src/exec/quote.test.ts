import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandLine, quote } from './quote.js';

const HOSTILE = [
  '',
  ' ',
  'plain',
  'a b',
  "it's",
  "'",
  "''",
  "'\\''",
  '"double"',
  '$(touch /tmp/hermes-fleet-quote-pwned)',
  '`touch /tmp/hermes-fleet-quote-pwned`',
  '${HOME}',
  '$HOME',
  '$1',
  '\\',
  '\\n',
  'line1\nline2',
  '\n',
  'trailing newline\n',
  'EOF\nrm -rf /\nEOF',
  "<<'EOF'\nEOF",
  'tab\there',
  '\r\n',
  'ünïcödé ✓ 🚀 日本語',
  '-n',
  '-e',
  '--help',
  '-',
  '*',
  '?',
  '[a-z]',
  '/etc/*',
  '{a,b}',
  '~',
  '~root',
  '~/x',
  'a;b',
  'a&&b',
  'a|b',
  'a>b',
  '<',
  '#comment',
  '!',
  '!!',
  'x=1',
  '%s %d',
  '\x01\x1b[31mred',
  'x'.repeat(10_000),
];

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((shell) => existsSync(shell));

function runThrough(shell: string, script: string): Buffer {
  return execFileSync(shell, ['-c', script], {
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

describe('quote', () => {
  it('passes safe words unchanged', () => {
    for (const word of [
      'abc',
      'a/b.c',
      '/opt/hermes/bin/hermes',
      'user@host',
      'a=b',
      '-x',
      '50%',
      'k:v,w+z',
    ]) {
      expect(quote(word)).toBe(word);
    }
  });

  it('single-quotes everything else', () => {
    expect(quote('')).toBe("''");
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe(`'it'\\''s'`);
    expect(quote('~')).toBe("'~'");
    expect(quote('$x')).toBe("'$x'");
  });

  it('rejects NUL', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
    expect(() => commandLine(['echo', '\0'])).toThrow(/NUL/);
  });

  it.each(SHELLS)('round-trips every hostile string byte for byte through %s', (shell) => {
    for (const value of HOSTILE) {
      const out = runThrough(shell, `printf %s ${quote(value)}`);
      expect(out.equals(Buffer.from(value)), JSON.stringify(value)).toBe(true);
    }
    expect(existsSync('/tmp/hermes-fleet-quote-pwned')).toBe(false);
  });

  it.each(SHELLS)('commandLine runs exactly argv through %s', (shell) => {
    const argv = ['printf', '%s\\0', ...HOSTILE];
    const out = runThrough(shell, commandLine(argv));
    expect(out.toString()).toBe(HOSTILE.map((value) => `${value}\0`).join(''));
  });

  it('survives two shell layers (sshd runs `$SHELL -c <command>`)', () => {
    for (const value of HOSTILE) {
      const inner = commandLine(['printf', '%s', value]);
      const out = execFileSync('/bin/sh', ['-c', commandLine(['/bin/sh', '-c', inner])]);
      expect(out.equals(Buffer.from(value)), JSON.stringify(value)).toBe(true);
    }
  });

  it('passes values as "$1" unchanged', () => {
    for (const value of HOSTILE) {
      const out = runThrough('/bin/sh', `set -- ${quote(value)}; printf %s "$1"`);
      expect(out.equals(Buffer.from(value)), JSON.stringify(value)).toBe(true);
    }
  });

  it('keeps a leading assignment-looking word a command', () => {
    expect(commandLine(['FOO=bar', 'x'])).toBe("'FOO=bar' x");
    expect(commandLine(['env', 'FOO=bar'])).toBe('env FOO=bar');
    expect(() => runThrough('/bin/sh', commandLine(['FOO=bar']))).toThrow();
  });
});
