/**
 * Python's `ast.literal_eval`, as far as an Ansible INI inventory needs it: Ansible types every
 * INI value by handing its text to literal_eval and keeping the text when that fails
 * (plugins/inventory/ini.py, `_parse_value`). So `1` is a number, `True` a boolean, `[1, 2]` a
 * list, `"a"` the string a, and `true`, `yes`, `01` or `web01` stay text.
 *
 * Covered: int (decimal, 0x/0o/0b, `_` separators), float, str/bytes literals (quotes, prefixes
 * r/u/b, escapes, adjacent literals joined), True/False/None, lists, tuples (as lists) and dicts,
 * unary + and -. Anything else (names, calls, sets, complex numbers) is "not a literal".
 */
export const NOT_A_LITERAL: unique symbol = Symbol('not a literal');

/** The value, or the text unchanged when Python would not take it as a literal. */
export function iniValue(text: string): unknown {
  const value = literalEval(text);
  return value === NOT_A_LITERAL ? text : value;
}

/** Text Python would read as a bare name or a dotted one (`web01`, `10.0.0.1`, `a.b`): never a literal. */
const PLAIN_TEXT =
  /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+){2,})(?:[.:/-][A-Za-z0-9_.:/-]*)?$/;
const PLAIN_INT = /^(?:[1-9][0-9]*|0)$/;

export function literalEval(text: string): unknown {
  // The common cases without the parser: a whole inventory of names and addresses is fast.
  if (PLAIN_INT.test(text)) return Number(text);
  if (PLAIN_TEXT.test(text) && text !== 'True' && text !== 'False' && text !== 'None') {
    return NOT_A_LITERAL;
  }
  // literal_eval strips leading spaces and tabs itself; Python's tokenizer ignores trailing ones.
  const parser = new Parser(text.replace(/^[ \t]+/, ''));
  try {
    const value = parser.expression(true);
    parser.skipSpace();
    if (!parser.done()) return NOT_A_LITERAL;
    return value;
  } catch (err) {
    if (err instanceof NotLiteral) return NOT_A_LITERAL;
    throw err;
  }
}

/** Thrown inside the parser when the text is not a literal; never escapes literalEval. */
class NotLiteral extends Error {}
const FAIL = new NotLiteral('not a literal');
const DIGITS = '[0-9](?:_?[0-9])*';
const FLOAT = new RegExp(`^(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.?)(?:[eE][+-]?${DIGITS})?`);

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos] as string;
      if (c === ' ' || c === '\t' || c === '\f') this.pos++;
      else if (c === '#') {
        // A comment runs to the end of the line (a value is one line).
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else if ((c === '\n' || c === '\r') && this.depth > 0) this.pos++;
      else if (c === '\\' && this.text[this.pos + 1] === '\n') this.pos += 2;
      else break;
    }
    if (this.depth === 0) {
      // A trailing newline ends the expression; anything after it is a second statement.
      while (this.pos < this.text.length && /[\n\r]/.test(this.text[this.pos] as string)) {
        const rest = this.text.slice(this.pos);
        if (/^[\s]*$/.test(rest)) {
          this.pos = this.text.length;
          return;
        }
        throw FAIL;
      }
    }
  }

  private depth = 0;

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** A tuple at the top (`1, 2`) or inside parentheses; otherwise one value. */
  expression(allowTuple: boolean): unknown {
    this.skipSpace();
    const first = this.unary();
    this.skipSpace();
    if (!allowTuple || this.peek() !== ',') return first;
    const items = [first];
    while (this.peek() === ',') {
      this.pos++;
      this.skipSpace();
      if (this.done() || this.peek() === ')') break;
      items.push(this.unary());
      this.skipSpace();
    }
    return items;
  }

  private unary(): unknown {
    this.skipSpace();
    const c = this.peek();
    if (c === '-' || c === '+') {
      this.pos++;
      this.skipSpace();
      // literal_eval takes one sign, in front of a number only (not `--1`, not `-True`).
      const value = this.atom();
      if (typeof value !== 'number' || this.lastWasBool) throw FAIL;
      return c === '-' ? -value : value;
    }
    return this.atom();
  }

  private lastWasBool = false;

  private atom(): unknown {
    this.lastWasBool = false;
    const c = this.peek();
    if (c === '[') return this.sequence(']');
    if (c === '(') return this.sequence(')');
    if (c === '{') return this.dict();
    if (/[0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos))?.[0];
    if (word !== undefined) {
      const next = this.text[this.pos + word.length];
      if (/^[rRuUbB]{1,2}$/.test(word) && (next === '"' || next === "'")) return this.strings();
      this.pos += word.length;
      if (word === 'True' || word === 'False') {
        this.lastWasBool = true;
        return word === 'True';
      }
      if (word === 'None') return null;
      throw FAIL;
    }
    if (c === '"' || c === "'") return this.strings();
    throw FAIL;
  }

  private sequence(close: ')' | ']'): unknown {
    this.pos++;
    this.depth++;
    const items: unknown[] = [];
    let sawComma = false;
    this.skipSpace();
    while (this.peek() !== close) {
      if (this.done()) throw FAIL;
      items.push(this.unary());
      this.skipSpace();
      if (this.peek() === ',') {
        sawComma = true;
        this.pos++;
        this.skipSpace();
      } else if (this.peek() !== close) throw FAIL;
    }
    this.pos++;
    this.depth--;
    // `(1)` is just 1; `(1,)` and `()` are tuples (lists in JSON).
    if (close === ')' && items.length === 1 && !sawComma) return items[0];
    return items;
  }

  private dict(): unknown {
    this.pos++;
    this.depth++;
    const out: Record<string, unknown> = {};
    this.skipSpace();
    if (this.peek() === '}') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      const key = this.unary();
      this.skipSpace();
      // `{1, 2}` is a set, which JSON cannot carry: treat it as not a literal.
      if (this.peek() !== ':') throw FAIL;
      this.pos++;
      const value = this.unary();
      if (key !== null && typeof key === 'object') throw FAIL;
      out[pythonKey(key)] = value;
      this.skipSpace();
      if (this.peek() === ',') {
        this.pos++;
        this.skipSpace();
      }
      if (this.peek() === '}') break;
      if (this.done()) throw FAIL;
    }
    this.pos++;
    this.depth--;
    return out;
  }

  private number(): number {
    const rest = this.text.slice(this.pos);
    const based =
      /^0([xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)(?![0-9A-Za-z_.])/.exec(rest);
    if (based) {
      this.pos += based[0].length;
      const body = (based[1] as string).replace(/_/g, '');
      const radix = { x: 16, o: 8, b: 2 }[(body[0] as string).toLowerCase() as 'x' | 'o' | 'b'];
      return parseInt(body.slice(1), radix);
    }
    const float = FLOAT.exec(rest);
    if (!float || float[0] === '.') throw FAIL;
    const written = float[0];
    const next = rest[written.length] ?? '';
    // `1j` is complex and `1x` a syntax error: neither is a value here.
    if (/[A-Za-z0-9_.]/.test(next)) throw FAIL;
    const isInt = /^[0-9_]+$/.test(written);
    // Python refuses leading zeros in a decimal int (`01`), except for zero itself (`00`).
    if (isInt && /^0/.test(written) && /[1-9]/.test(written)) throw FAIL;
    this.pos += written.length;
    return Number(written.replace(/_/g, ''));
  }

  /** One or more adjacent string literals, joined (`'a' "b"` is `ab`). */
  private strings(): string {
    let out = '';
    let kind: 'str' | 'bytes' | undefined;
    do {
      const prefix = /^[rRuUbB]{0,2}/.exec(this.text.slice(this.pos))?.[0] ?? '';
      const lower = prefix.toLowerCase();
      if (!['', 'r', 'u', 'b', 'br', 'rb'].includes(lower)) throw FAIL;
      const thisKind = lower.includes('b') ? 'bytes' : 'str';
      // Python refuses to join bytes and str literals.
      if (kind !== undefined && kind !== thisKind) throw FAIL;
      kind = thisKind;
      this.pos += prefix.length;
      out += this.stringBody(lower.includes('r'));
      this.skipSpace();
    } while (/^[rRuUbB]{0,2}["']/.test(this.text.slice(this.pos)));
    return out;
  }

  private stringBody(raw: boolean): string {
    const text = this.text;
    const mark = text[this.pos] as string;
    const quote = text.startsWith(mark.repeat(3), this.pos) ? mark.repeat(3) : mark;
    this.pos += quote.length;
    let out = '';
    for (;;) {
      if (this.pos >= text.length) throw FAIL;
      if (text.startsWith(quote, this.pos)) {
        this.pos += quote.length;
        return out;
      }
      const c = text[this.pos] as string;
      if (c === '\n' && quote.length === 1) throw FAIL;
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const next = text[this.pos + 1];
      if (next === undefined) throw FAIL;
      if (raw) {
        out += c + next;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      const simple: Record<string, string> = {
        '\n': '',
        '\\': '\\',
        "'": "'",
        '"': '"',
        a: '\x07',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
        v: '\v',
      };
      const escaped = simple[next];
      if (escaped !== undefined) {
        out += escaped;
      } else if (/[0-7]/.test(next)) {
        const octal = /^[0-7]{1,3}/.exec(text.slice(this.pos - 1))?.[0] ?? next;
        out += String.fromCodePoint(parseInt(octal, 8));
        this.pos += octal.length - 1;
      } else if (next === 'x' || next === 'u' || next === 'U') {
        const width = { x: 2, u: 4, U: 8 }[next];
        const hex = text.slice(this.pos, this.pos + width);
        if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) throw FAIL;
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) throw FAIL;
        out += String.fromCodePoint(code);
        this.pos += width;
      } else {
        // Python keeps an unknown escape as written (with a warning).
        out += `\\${next}`;
      }
    }
  }
}

/** A dict key as JSON carries it: Python's json turns True into "true", None into "null". */
function pythonKey(key: unknown): string {
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  return typeof key === 'number' ? String(key) : (key as string);
}
