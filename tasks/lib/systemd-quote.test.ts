import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/plan/types.js';
import { escapeSpecifiers, systemdEnvironment, systemdQuote } from './systemd-quote.js';

/**
 * How systemd turns an ExecStart= line into argv (load-fragment.c config_parse_exec and
 * extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE, then specifiers, then `$$` at
 * exec time), reduced to what the quoting emits: enough to prove the round trip.
 */
function systemdArgv(line: string, substituteDollars = true): string[] {
  const words: string[] = [];
  let i = 0;
  const simple: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '\\': '\\',
    '"': '"',
    "'": "'",
  };
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    if (line[i] === ';' && (i + 1 === line.length || line[i + 1] === ' ')) {
      throw new Error('an unquoted ; would split the command');
    }
    let word = '';
    let quoted = false;
    while (i < line.length && (quoted || line[i] !== ' ')) {
      const ch = line[i] ?? '';
      if (ch === '"') {
        quoted = !quoted;
        i++;
      } else if (ch === '\\') {
        const next = line[i + 1] ?? '';
        if (next === 'x') {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (simple[next] !== undefined) {
          word += simple[next];
          i += 2;
        } else {
          throw new Error(`unknown escape \\${next}`);
        }
      } else {
        if (!quoted && (ch === "'" || ch === '$' || ch === '%' || ch === '`')) {
          throw new Error(`unquoted ${ch} reaches systemd`);
        }
        word += ch;
        i++;
      }
    }
    if (quoted) throw new Error('unbalanced quoting');
    // Specifiers, then (ExecStart only) $-substitution: a lone % or $ would be eaten.
    word = word.replace(/%(.)/g, (_m, c: string) => {
      if (c !== '%') throw new Error(`specifier %${c} would be expanded`);
      return '%';
    });
    if (substituteDollars) {
      word = word.replace(/\$(.?)/g, (_m, c: string) => {
        if (c !== '$') throw new Error(`$${c} would be substituted`);
        return '$';
      });
    }
    words.push(word);
  }
  return words;
}

const hostile = [
  'plain',
  '--flag=value',
  'two words',
  'double "quotes"',
  "single 'quotes'",
  '$(id)',
  '${HOME}',
  '$HOME',
  '$$',
  '`id`',
  '100%',
  '%h',
  '%%',
  'back\\slash',
  '\\n literally',
  ';',
  'a;b',
  '; rm -rf /',
  'multi\nline',
  'tab\there',
  'bell\x07',
  '',
  '  ',
  '-leading-dash',
  '@at',
  'unicode ✓',
];

describe('systemdQuote', () => {
  it('passes harmless words unchanged', () => {
    expect(systemdQuote('--port=8080')).toBe('--port=8080');
    expect(systemdQuote('/opt/hermes/bin/hermes')).toBe('/opt/hermes/bin/hermes');
  });

  it('quotes with C escapes and doubles $ and %', () => {
    expect(systemdQuote('a b')).toBe('"a b"');
    expect(systemdQuote('$(id)')).toBe('"$$(id)"');
    expect(systemdQuote('100%')).toBe('"100%%"');
    expect(systemdQuote('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(systemdQuote('c:\\x')).toBe('"c:\\\\x"');
    expect(systemdQuote(';')).toBe('";"');
    expect(systemdQuote('')).toBe('""');
  });

  it('round-trips every hostile argument through systemd’s rules as one argument', () => {
    for (const arg of hostile) {
      expect(systemdArgv(`/bin/x ${systemdQuote(arg)} end`)).toEqual(['/bin/x', arg, 'end']);
    }
    expect(systemdArgv(hostile.map(systemdQuote).join(' '))).toEqual(hostile);
  });

  it('refuses a NUL byte', () => {
    expect(() => systemdQuote('a\0b')).toThrow(PlanError);
  });
});

describe('systemdEnvironment', () => {
  it('quotes the whole assignment, doubles % but keeps $ (Environment= does not substitute)', () => {
    expect(systemdEnvironment('HOME', '/var/lib/hermes')).toBe(
      'Environment="HOME=/var/lib/hermes"',
    );
    expect(systemdEnvironment('X', 'a $b 50% "q"')).toBe('Environment="X=a $b 50%% \\"q\\""');
  });

  it('round-trips hostile values', () => {
    for (const value of hostile) {
      const line = systemdEnvironment('K', value).slice('Environment='.length);
      expect(systemdArgv(line, false)).toEqual([`K=${value}`]);
    }
  });
});

describe('escapeSpecifiers', () => {
  it('doubles every %', () => {
    expect(escapeSpecifiers('/srv/%i/100%')).toBe('/srv/%%i/100%%');
  });
});
