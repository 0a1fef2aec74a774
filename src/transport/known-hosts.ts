import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { quote } from '../exec/quote.js';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

/** One key line of an OpenSSH known_hosts file. */
export interface KnownHostsEntry {
  /** 1-based line number, for messages that point at the line to fix. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written: comma-separated patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The key blob, base64 as in the file. */
  keyBase64: string;
}

/**
 * Parses a known_hosts file. Lines that are blank, comments or malformed are skipped, as
 * OpenSSH skips them.
 */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const fields = raw.trim().split(/[ \t]+/);
    const first = fields[0] ?? '';
    if (first === '' || first.startsWith('#')) continue;
    let marker: KnownHostsEntry['marker'];
    if (first.startsWith('@')) {
      if (first === '@revoked') marker = 'revoked';
      else if (first === '@cert-authority') marker = 'cert-authority';
      // An unknown marker: OpenSSH ignores the whole line rather than guessing.
      else continue;
    }
    const offset = marker ? 1 : 0;
    const hosts = fields[offset];
    const keyType = fields[offset + 1];
    const keyBase64 = fields[offset + 2];
    if (hosts === undefined || keyType === undefined || keyBase64 === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) continue;
    entries.push({
      line: index + 1,
      ...(marker ? { marker } : {}),
      hosts,
      keyType,
      keyBase64,
    });
  }
  return entries;
}

/** The name OpenSSH records and looks up: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

// A run checks every host against the same file: each wildcard pattern is compiled once, and a
// pattern without wildcards (most of them) is compared as it is.
const compiledPatterns = new Map<string, RegExp>();

function patternMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  let compiled = compiledPatterns.get(pattern);
  if (compiled === undefined) {
    compiled = wildcardToRegExp(pattern);
    compiledPatterns.set(pattern, compiled);
  }
  return compiled.test(name);
}

function wildcardToRegExp(pattern: string): RegExp {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function hashedNameMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  // `|1|salt|hash` splits into ['', '1', salt, hash].
  if (parts.length !== 4 || parts[1] !== '1' || parts[2] === undefined || parts[3] === undefined) {
    return false;
  }
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Whether a known_hosts host field names `name` (already in `knownHostsName` form): a hashed
 * name, or a comma-separated list of `*`/`?` patterns where any matching `!pattern` vetoes the
 * line. Case-insensitive, as OpenSSH lowercases both sides.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  const lowerName = name.toLowerCase();
  if (field.startsWith('|')) return hashedNameMatches(field, lowerName);
  let positive = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (body === '' || !patternMatches(body, lowerName)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** `SHA256:<base64 without padding>`, the fingerprint OpenSSH prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type at the start of an SSH wire-format public key blob, e.g. `ssh-ed25519`. */
export function keyTypeOfBlob(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return '';
  const length = keyBlob.readUInt32BE(0);
  if (length > keyBlob.length - 4) return '';
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's short name for a key type, as in "ED25519 key fingerprint is …". */
function keyLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType;
}

type Verdict =
  | { status: 'ok' }
  | { status: 'unknown' }
  | { status: 'revoked'; entry: KnownHostsEntry }
  | { status: 'changed'; entry: KnownHostsEntry }
  | { status: 'other-types'; entries: KnownHostsEntry[] };

function judge(
  entries: readonly KnownHostsEntry[],
  name: string,
  keyType: string,
  keyBlob: Buffer,
): Verdict {
  const matching = entries.filter((entry) => hostFieldMatches(entry.hosts, name));
  const sameKey = (entry: KnownHostsEntry): boolean =>
    entry.keyType === keyType && Buffer.from(entry.keyBase64, 'base64').equals(keyBlob);
  // A revoked key fails even when another line lists it as good: revocation must win.
  const revoked = matching.find((entry) => entry.marker === 'revoked' && sameKey(entry));
  if (revoked) return { status: 'revoked', entry: revoked };
  // CA keys sign host certificates; a plain host key equal to one proves nothing.
  const plain = matching.filter((entry) => entry.marker === undefined);
  if (plain.some(sameKey)) return { status: 'ok' };
  const changed = plain.find((entry) => entry.keyType === keyType);
  if (changed) return { status: 'changed', entry: changed };
  if (plain.length > 0) return { status: 'other-types', entries: plain };
  return { status: 'unknown' };
}

export interface HostKeyCheck {
  /** known_hosts file to read (and, under accept-new, append to). */
  file: string;
  /** The name to look up: the address connected to, or HostKeyAlias when set. */
  host: string;
  port: number;
  /** Type of the offered key, e.g. `ssh-ed25519`; the blob's own type when empty. */
  keyType: string;
  /** The offered key in SSH wire format (what the server sent during key exchange). */
  keyBlob: Buffer;
  policy: HostKeyPolicy;
}

export type HostKeyResult =
  | { ok: true; added?: boolean; warning?: string }
  | { ok: false; kind: 'unknown' | 'changed' | 'revoked'; message: string };

// The file as last parsed, per path: every host of a run reads it (twice), and a fleet's
// known_hosts has a line per host, so parsing it once per host would grow with the fleet's square.
// The text read each time is the key: a file changed since (an append) is parsed again.
const parsedFiles = new Map<string, { text: string; entries: KnownHostsEntry[] }>();

async function readEntries(file: string): Promise<{ text: string; entries: KnownHostsEntry[] }> {
  try {
    const text = await readFile(file, 'utf8');
    const parsed = parsedFiles.get(file);
    if (parsed?.text === text) return parsed;
    const fresh = { text, entries: parseKnownHosts(text) };
    parsedFiles.set(file, fresh);
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', entries: [] };
    throw error;
  }
}

function removeHint(name: string, file: string): string {
  return `ssh-keygen -R ${quote(name)} -f ${quote(file)}`;
}

function failure(check: HostKeyCheck, name: string, verdict: Verdict): HostKeyResult {
  const label = keyLabel(check.keyType);
  const offered = fingerprintSha256(check.keyBlob);
  const where = (entry: KnownHostsEntry): string => `${check.file}:${entry.line}`;
  const fingerprintOf = (entry: KnownHostsEntry): string =>
    fingerprintSha256(Buffer.from(entry.keyBase64, 'base64'));
  switch (verdict.status) {
    case 'revoked':
      return {
        ok: false,
        kind: 'revoked',
        message:
          `the ${label} host key offered by ${name} (${offered}) is marked as revoked in ` +
          `${where(verdict.entry)}; a stolen key may be in use to impersonate this host. ` +
          `Refusing to connect.`,
      };
    case 'changed':
      return {
        ok: false,
        kind: 'changed',
        message: [
          `REMOTE HOST IDENTIFICATION HAS CHANGED for ${name}!`,
          `Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key has just been changed.`,
          `The fingerprint for the ${label} key sent by the remote host is ${offered}.`,
          `Offending ${label} key in ${where(verdict.entry)} (fingerprint ${fingerprintOf(verdict.entry)}).`,
          `If the change is expected, remove the old key with: ${removeHint(name, check.file)}`,
          `and connect again (with hostKeyPolicy accept-new the new key is recorded).`,
          `Host key verification failed.`,
        ].join('\n'),
      };
    case 'other-types': {
      const known = verdict.entries
        .map((entry) => `${keyLabel(entry.keyType)} in ${where(entry)}`)
        .join(', ');
      return {
        ok: false,
        kind: 'changed',
        message: [
          `${name} offered ${label} host key ${offered}, but only other key types are known for it: ${known}.`,
          `A host that kept its keys would have offered the known type; this may be a man-in-the-middle attack.`,
          `If the host's keys were replaced, remove the old ones with: ${removeHint(name, check.file)}`,
        ].join('\n'),
      };
    }
    case 'unknown':
      return {
        ok: false,
        kind: 'unknown',
        message: [
          `no host key is known for ${name} in ${check.file} and hostKeyPolicy is strict.`,
          `The host offered ${label} key ${offered}.`,
          `After checking that fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), add it with`,
          `  ssh-keyscan -p ${check.port} ${quote(check.host)} >> ${quote(check.file)}`,
          `or set ssh.hostKeyPolicy: accept-new to record keys on first contact.`,
        ].join('\n'),
      };
    case 'ok':
      return { ok: true };
  }
}

// Appends from many hosts at once must not interleave or add one key twice, so every
// read-judge-append for one file runs after the previous one finished.
const appendQueues = new Map<string, Promise<unknown>>();

function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = appendQueues.get(file) ?? Promise.resolve();
  const next = previous.then(work, work);
  const tail = next.catch(() => undefined);
  appendQueues.set(file, tail);
  void tail.then(() => {
    if (appendQueues.get(file) === tail) appendQueues.delete(file);
  });
  return next;
}

async function recordKey(
  check: HostKeyCheck,
  name: string,
  keyBase64: string,
): Promise<HostKeyResult> {
  return serialized(check.file, async () => {
    const { text, entries } = await readEntries(check.file);
    const verdict = judge(entries, name, check.keyType, check.keyBlob);
    if (verdict.status === 'ok') return { ok: true };
    if (verdict.status !== 'unknown') return failure(check, name, verdict);
    await mkdir(dirname(check.file), { recursive: true, mode: 0o700 });
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    await appendFile(check.file, `${separator}${name} ${check.keyType} ${keyBase64}\n`, {
      mode: 0o600,
    });
    return { ok: true, added: true };
  });
}

/**
 * Checks a host key offered during key exchange against a known_hosts file, as OpenSSH does
 * under StrictHostKeyChecking yes / accept-new / no.
 */
export async function checkHostKey(check: HostKeyCheck): Promise<HostKeyResult> {
  const name = knownHostsName(check.host, check.port);
  const keyType = check.keyType === '' ? keyTypeOfBlob(check.keyBlob) : check.keyType;
  const normalized = { ...check, keyType };
  if (check.policy === 'off') {
    return {
      ok: true,
      warning:
        `host key checking is off for ${name}: its ${keyLabel(keyType)} key ` +
        `${fingerprintSha256(check.keyBlob)} was accepted without verification`,
    };
  }
  const keyBase64 = check.keyBlob.toString('base64');
  const { entries } = await readEntries(check.file);
  const verdict = judge(entries, name, keyType, check.keyBlob);
  if (verdict.status === 'ok') return { ok: true };
  if (verdict.status === 'unknown' && check.policy === 'accept-new') {
    return recordKey(normalized, name, keyBase64);
  }
  return failure(normalized, name, verdict);
}

/**
 * Key types known for a host, so the client can ask the server for a known type first (as
 * OpenSSH orders its host key algorithms) instead of getting a new type that cannot be checked.
 */
export async function knownHostKeyTypes(
  file: string,
  host: string,
  port: number,
): Promise<string[]> {
  const name = knownHostsName(host, port);
  const { entries } = await readEntries(file);
  const types = entries
    .filter((entry) => entry.marker === undefined && hostFieldMatches(entry.hosts, name))
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}
