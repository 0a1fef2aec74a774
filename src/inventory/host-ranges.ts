/** Most hosts one range may produce: a typo like web[1:100000] should fail, not hang. */
const MAX_HOSTS = 10_000;
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Expands `web[01:20]` (zero-padded as written), `node[a:c]` and several ranges in one name
 * (`r[1:2]n[a:b]`, last range varying fastest). Throws an Error with a human message when the
 * pattern is malformed, empty or reversed; the caller adds the location.
 */
export function expandHostPattern(pattern: string): string[] {
  let names = [''];
  let rest = pattern;
  while (rest !== '') {
    const open = rest.indexOf('[');
    if (open === -1) {
      names = names.map((name) => name + rest);
      break;
    }
    const close = rest.indexOf(']', open);
    if (close === -1) throw new Error(`"[" without a closing "]" in ${pattern}`);
    const prefix = rest.slice(0, open);
    const values = expandRange(rest.slice(open + 1, close), pattern);
    names = names.flatMap((name) => values.map((value) => name + prefix + value));
    if (names.length > MAX_HOSTS) {
      throw new Error(`${pattern} expands to more than ${MAX_HOSTS} hosts`);
    }
    rest = rest.slice(close + 1);
  }
  if (pattern.includes(']') && !pattern.includes('[')) {
    throw new Error(`"]" without an opening "[" in ${pattern}`);
  }
  for (const name of names) {
    if (!HOST_NAME.test(name)) {
      throw new Error(
        `"${name}" is not a valid host name (letters, digits, ".", "-" and "_"; ranges as web[01:20])`,
      );
    }
  }
  return names;
}

function expandRange(body: string, pattern: string): string[] {
  const parts = body.split(':');
  const [start, end] = parts;
  if (parts.length !== 2 || !start || !end) {
    throw new Error(`the range [${body}] in ${pattern} must be [start:end], e.g. [01:20] or [a:c]`);
  }
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const from = Number(start);
    const to = Number(end);
    if (from > to) {
      throw new Error(`the range [${body}] in ${pattern} is reversed: write [${end}:${start}]`);
    }
    if (to - from + 1 > MAX_HOSTS) {
      throw new Error(`${pattern} expands to more than ${MAX_HOSTS} hosts`);
    }
    // web[01:20] pads to the width of the start as written; web[1:20] does not pad.
    const width = start.startsWith('0') ? start.length : 0;
    const values: string[] = [];
    for (let i = from; i <= to; i++) values.push(String(i).padStart(width, '0'));
    return values;
  }
  if (/^[a-z]$/.test(start) && /^[a-z]$/.test(end)) return letters(start, end, body, pattern);
  if (/^[A-Z]$/.test(start) && /^[A-Z]$/.test(end)) return letters(start, end, body, pattern);
  throw new Error(
    `the range [${body}] in ${pattern} must be two numbers ([01:20]) or two letters of the same case ([a:c])`,
  );
}

function letters(start: string, end: string, body: string, pattern: string): string[] {
  const from = start.charCodeAt(0);
  const to = end.charCodeAt(0);
  if (from > to) {
    throw new Error(`the range [${body}] in ${pattern} is reversed: write [${end}:${start}]`);
  }
  const values: string[] = [];
  for (let code = from; code <= to; code++) values.push(String.fromCharCode(code));
  return values;
}
