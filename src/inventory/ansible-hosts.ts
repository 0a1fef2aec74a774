/** Most hosts one pattern may produce: a typo like web[1:100000] should fail, not hang. */
const MAX_HOSTS = 100_000;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A host pattern as Ansible's file plugins read it (`_expand_hostpattern`): an optional
 * `:port` (`host:2222`, `[::1]:2222`, `web[01:03]:2222`), then every `[begin:end(:step)]` range
 * expanded, the first range outermost. Ranges follow plugins/inventory/__init__.py exactly:
 * `[01:10]` pads to the width of its begin (which must then equal the end's), `[a:c]` walks
 * a-z then A-Z, a missing begin is 0, and a reversed numeric range gives no host at all.
 * Throws an Error with Ansible's message for a malformed range; the caller adds file:line.
 */
export function expandAnsibleHostPattern(pattern: string): { names: string[]; port?: number } {
  const { host, port } = splitPort(pattern);
  const names = host.includes('[') ? expandRanges(host) : [host];
  return port === undefined ? { names } : { names, port };
}

function splitPort(pattern: string): { host: string; port?: number } {
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(pattern);
  if (bracketed) return { host: bracketed[1] as string, port: Number(bracketed[2]) };
  const hostport = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(pattern);
  // parse_address then checks the host part is an address or host name; anything else (an
  // IPv6 address without brackets, say) is taken whole, without a port, as Ansible does.
  if (hostport && isHostName(hostport[1] as string)) {
    return { host: hostport[1] as string, port: Number(hostport[2]) };
  }
  return { host: pattern };
}

const RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const LABEL = new RegExp(`^(?:[\\w]|${RANGE})(?:[\\w_-]|${RANGE})*$`);

function isHostName(host: string): boolean {
  if (host === '') return false;
  return host.split('.').every((label) => LABEL.test(label) && !/[_-]$/.test(label));
}

function expandRanges(line: string): string[] {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (close === -1) {
    // Python's split('|') would give two parts: Ansible fails with a ValueError here.
    throw new Error(`"[" without a closing "]" in ${line}`);
  }
  const head = line.slice(0, open);
  const range = line.slice(open + 1, close);
  const tail = line.slice(close + 1);
  const bounds = range.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    throw new Error(`host range must be begin:end or begin:end:step (in ${line})`);
  }
  const begin = bounds[0] === '' ? '0' : (bounds[0] as string);
  const end = bounds[1] as string;
  const stepText = bounds[2] ?? '1';
  if (end === '') throw new Error(`host range must specify end value (in ${line})`);
  let fill = (value: string) => value;
  if (begin.startsWith('0') && begin.length > 1) {
    if (begin.length !== end.length) {
      throw new Error(`host range must specify equal-length begin and end formats (in ${line})`);
    }
    fill = (value) => value.padStart(begin.length, '0');
  }
  const step = pythonInt(stepText, line);
  if (step === 0) throw new Error(`host range step cannot be zero (in ${line})`);
  let seq: string[];
  const from = LETTERS.indexOf(begin);
  const to = LETTERS.indexOf(end);
  if (from !== -1 && to !== -1) {
    if (from > to) throw new Error(`host range must have begin <= end (in ${line})`);
    seq = [];
    const letters = LETTERS.slice(from, to + 1);
    if (step > 0) for (let i = 0; i < letters.length; i += step) seq.push(letters[i] as string);
  } else {
    const b = pythonInt(begin, line);
    const e = pythonInt(end, line) + 1;
    if (Math.abs(e - b) / Math.abs(step) > MAX_HOSTS) {
      throw new Error(`${line} expands to more than ${MAX_HOSTS} hosts`);
    }
    seq = [];
    if (step > 0) for (let i = b; i < e; i += step) seq.push(String(i));
    else for (let i = b; i > e; i += step) seq.push(String(i));
  }
  const out: string[] = [];
  for (const value of seq) {
    const name = head + fill(value) + tail;
    if (name.includes('[')) out.push(...expandRanges(name));
    else out.push(name);
    if (out.length > MAX_HOSTS) throw new Error(`${line} expands to more than ${MAX_HOSTS} hosts`);
  }
  return out;
}

/** Python's int() on a range bound: optional sign, digits, `_` between digits, spaces around. */
function pythonInt(text: string, line: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?[0-9](?:_?[0-9])*$/.test(trimmed)) {
    throw new Error(`invalid literal for int() with base 10: '${text}' (in ${line})`);
  }
  return Number(trimmed.replace(/_/g, ''));
}
