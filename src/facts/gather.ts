import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import { namedLine } from '../exec/line-field.js';
import { Secret } from '../secret.js';
import { READ_SH } from './program.js';
import type {
  ContainerFact,
  DirEntry,
  FactRequest,
  GenerationEntry,
  GroupFact,
  HostFacts,
  LockFact,
  PathFact,
  UnitFact,
  UserFact,
  VersionFact,
} from './types.js';

function requestKey(r: FactRequest): string {
  switch (r.kind) {
    case 'path':
      return `path\t${r.follow ? 'follow' : 'nofollow'}\t${r.path}`;
    case 'temp-files':
      return `temp-files\t${r.as ?? ''}\t${r.dir}`;
    case 'dir-entries':
      return `dir-entries\t${r.dir}`;
    case 'user':
    case 'group':
    case 'unit':
    case 'command':
      return `${r.kind}\t${r.name}`;
    case 'container':
      return `container\t${r.backend}\t${r.name}`;
    case 'image':
      return `image\t${r.backend}\t${r.image}`;
    case 'version':
      return `version\t${r.path}`;
    case 'lock':
      return `lock\t${r.path}`;
    case 'generations':
      return `generations\t${r.dir}`;
  }
}

const READ_PROGRAM = compactProgram(READ_SH);

/** Merges duplicate requests (a path asked with and without content is read once, with it). */
export function dedupeRequests(requests: readonly FactRequest[]): FactRequest[] {
  const byKey = new Map<string, FactRequest>();
  for (const r of requests) {
    const key = requestKey(r);
    const seen = byKey.get(key);
    if (seen?.kind === 'path' && r.kind === 'path') {
      const as = r.as ?? seen.as;
      const tree = r.tree ?? seen.tree;
      byKey.set(key, {
        kind: 'path',
        path: r.path,
        content: Boolean(seen.content) || Boolean(r.content),
        secret: Boolean(seen.secret) || Boolean(r.secret),
        ...(r.follow ? { follow: true } : {}),
        // Asked by anyone as the account, it is read as the account.
        ...(as !== undefined ? { as } : {}),
        ...(tree !== undefined ? { tree } : {}),
      });
    } else if (!seen) {
      byKey.set(key, r);
    }
  }
  return [...byKey.values()];
}

export function encodeRequests(requests: readonly FactRequest[]): string {
  const line = (i: number, kind: string, fields: Record<string, string | undefined>) =>
    namedLine(i, kind, fields, 'fact request');
  return requests
    .map((r, i) => {
      switch (r.kind) {
        case 'path':
          return line(i, 'path', {
            path: r.path,
            content: r.content ? '1' : undefined,
            follow: r.follow ? '1' : undefined,
            as: r.as,
            tree: r.as === undefined ? undefined : r.tree,
          });
        case 'temp-files':
          return line(i, 'temp-files', { path: r.dir, as: r.as });
        case 'dir-entries':
          return line(i, 'dir-entries', { path: r.dir });
        case 'user':
        case 'group':
        case 'unit':
        case 'command':
          return line(i, r.kind, { name: r.name });
        case 'container':
          return line(i, 'container', { backend: r.backend, name: r.name });
        case 'image':
          return line(i, 'image', { backend: r.backend, image: r.image });
        case 'version':
          return line(i, 'version', { path: r.path, user: r.user });
        case 'lock':
          return line(i, 'lock', {
            path: r.path,
            seconds: r.waitSeconds ? String(Math.ceil(r.waitSeconds)) : undefined,
          });
        case 'generations':
          return line(i, 'generations', { path: r.dir });
      }
    })
    .join('');
}

export function emptyFacts(): HostFacts {
  return {
    paths: new Map(),
    users: new Map(),
    groups: new Map(),
    units: new Map(),
    commands: new Map(),
    containers: new Map(),
    images: new Map(),
    versions: new Map(),
    tempFiles: new Map(),
    dirEntries: new Map(),
    locks: new Map(),
    generations: new Map(),
  };
}

/** `key=value` lines (a lock's holder), later keys winning. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function parseLock(fields: readonly string[]): LockFact {
  const [, state = '', serial = '', bootId = '', holder = ''] = fields;
  const known = state === 'free' || state === 'held' || state === 'stale';
  return {
    state: known ? state : 'unknown',
    serial,
    bootId,
    ...(holder !== '' ? { holder: parseKeyValues(fromBase64(holder)) } : {}),
  };
}

/** The lock after the read names another batch than before it (held, or a new serial). */
function tornBy(lines: readonly string[], end: LockFact): boolean {
  const first = lines.find((line) => /^\d+\tlock\t/.test(line));
  if (first === undefined) return false;
  const start = parseLock(first.split('\t').slice(1));
  return end.state === 'held' || end.serial !== start.serial;
}

/** A path of a torn read: what it was, or absent when it was caught mid-change. */
function tornPath(request: Extract<FactRequest, { kind: 'path' }>, fields: string[]): PathFact {
  try {
    return parsePath(request, fields);
  } catch {
    return { kind: 'absent' };
  }
}

function parseGenerationEntries(base64: string): GenerationEntry[] {
  return fromBase64(base64)
    .split('\n')
    .filter((line) => /^[0-9]+\t/.test(line))
    .map((line) => {
      const [number = '', release = ''] = line.split('\t');
      return { number: Number(number), ...(release !== '' ? { release } : {}) };
    })
    .sort((a, b) => a.number - b.number);
}

/** `SECONDS/NAME` entries, NUL-separated (find -printf; a name has no `/` and no NUL). */
function parseDirEntries(base64: string): DirEntry[] {
  return fromBase64(base64)
    .split('\0')
    .filter((entry) => entry.includes('/'))
    .map((entry) => {
      const slash = entry.indexOf('/');
      return {
        name: entry.slice(slash + 1),
        mtimeMs: Math.round(Number(entry.slice(0, slash)) * 1000),
      };
    });
}

function parseStat(text: string) {
  const [mode, uid, gid, user, group, mtime, size] = text.split(' ');
  return {
    mode: parseInt(mode ?? '0', 8),
    uid: Number(uid),
    gid: Number(gid),
    user: user ?? '',
    group: group ?? '',
    mtimeMs: Math.round(Number(mtime) * 1000),
    size: Number(size),
  };
}

function fromBase64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

function parsePath(request: Extract<FactRequest, { kind: 'path' }>, fields: string[]): PathFact {
  const [kind, stat = '', extra] = fields;
  if (kind === 'absent') return { kind: 'absent' };
  const attrs = parseStat(stat);
  switch (kind) {
    case 'file': {
      if (!request.content) return { kind: 'file', ...attrs };
      if (extra === '!') {
        throw new HostReadError(
          request.as === undefined
            ? `cannot read ${request.path} (permission denied?)`
            : `cannot read ${request.path} as ${request.as} (permission denied?): hermes-fleet reads the account's files only as the account; hand it over (chown ${request.as} ${request.path}) or remove it`,
        );
      }
      if (extra === '~') {
        throw new HostReadError(
          `${request.path} changed while it was read (replaced by a link or another file?); not using what it holds`,
        );
      }
      const text = fromBase64(extra ?? '');
      return request.secret
        ? { kind: 'file', ...attrs, secret: new Secret(text, `host file ${request.path}`) }
        : { kind: 'file', ...attrs, text };
    }
    case 'dir':
      return { kind: 'dir', ...attrs };
    case 'symlink':
      return { kind: 'symlink', ...attrs, target: fromBase64(extra ?? '') };
    default:
      return { kind: 'other', ...attrs };
  }
}

function parseUnit(encoded: string): UnitFact {
  const props = new Map<string, string>();
  for (const line of fromBase64(encoded).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const micros = (name: string): number => {
    const seconds = /^@(\d+)/.exec(props.get(name) ?? '')?.[1];
    return seconds ? Number(seconds) * 1_000_000 : 0;
  };
  return {
    loadState: props.get('LoadState') ?? 'not-found',
    activeState: props.get('ActiveState') ?? 'inactive',
    subState: props.get('SubState') ?? 'dead',
    unitFileState: props.get('UnitFileState') ?? '',
    activeEnterTimestampUs: micros('ActiveEnterTimestamp'),
    stateChangeTimestampUs: micros('StateChangeTimestamp'),
    mainPid: Number(props.get('MainPID') ?? 0),
    nRestarts: Number(props.get('NRestarts') ?? 0),
  };
}

function parseVersion(
  request: Extract<FactRequest, { kind: 'version' }>,
  fields: readonly string[],
): VersionFact {
  if (fields[0] === 'no-user') return { kind: 'no-user', user: request.user };
  if (fields[0] !== 'version') return { kind: 'absent' };
  const code = Number(fields[2]);
  return {
    kind: 'ran',
    exitCode: Number.isInteger(code) && fields[2] !== '' ? code : -1,
    output: fromBase64(fields[1] ?? ''),
  };
}

/** The host answered, but not in a way facts can be built from (e.g. a file it cannot read). */
export class HostReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostReadError';
  }
}

/** Parses the read script's output into facts for exactly the requests sent. */
export function parseFacts(
  requests: readonly FactRequest[],
  output: string,
): HostFacts & { uid: number } {
  const facts = emptyFacts();
  let uid = -1;
  let ended = false;
  const answered = new Set<number>();
  const lines = output.split('\n');
  // A batch that took the host's lock while the read went on may have changed what was read:
  // the read is then torn, and the lock says so (held); a file caught mid-change is no error.
  const after = lines.find((line) => line.startsWith('lock-after\t'));
  const torn = after !== undefined && tornBy(lines, parseLock(after.split('\t')));
  for (const line of lines) {
    if (line === '') continue;
    const [head = '', ...fields] = line.split('\t');
    if (head === 'whoami') {
      uid = Number(fields[0]);
      continue;
    }
    if (head === 'end') {
      ended = true;
      continue;
    }
    if (head === 'lock-after') continue;
    const index = Number(head);
    const request = requests[index];
    if (!request) throw new HostReadError(`unexpected line from the host: ${line.slice(0, 80)}`);
    answered.add(index);
    const found = fields[0] === 'found';
    switch (request.kind) {
      case 'path':
        // Asked both ways, the unfollowed answer wins: it is the one that can be trusted for
        // a name the service account could have swapped.
        if (!request.follow || !facts.paths.has(request.path)) {
          facts.paths.set(
            request.path,
            torn ? tornPath(request, fields) : parsePath(request, fields),
          );
        }
        break;
      case 'user': {
        const [name = '', , uidText, gidText, , home = '', shell = ''] = (fields[1] ?? '').split(
          ':',
        );
        const user: UserFact | null = found
          ? { name, uid: Number(uidText), gid: Number(gidText), home, shell }
          : null;
        facts.users.set(request.name, user);
        break;
      }
      case 'group': {
        const [name = '', , gidText] = (fields[1] ?? '').split(':');
        const group: GroupFact | null = found ? { name, gid: Number(gidText) } : null;
        facts.groups.set(request.name, group);
        break;
      }
      case 'unit':
        facts.units.set(request.name, parseUnit(fields[1] ?? ''));
        break;
      case 'command':
        facts.commands.set(request.name, found);
        break;
      case 'container': {
        const [id, running, image] = (fields[1] ?? '').split(' ');
        const container: ContainerFact = found
          ? {
              exists: true,
              ...(id ? { id } : {}),
              running: running === 'true',
              ...(image ? { image } : {}),
            }
          : { exists: false };
        facts.containers.set(`${request.backend}:${request.name}`, container);
        break;
      }
      case 'image':
        facts.images.set(`${request.backend}:${request.image}`, found);
        break;
      case 'version':
        facts.versions?.set(request.path, parseVersion(request, fields));
        break;
      case 'dir-entries':
        facts.dirEntries?.set(request.dir, found ? parseDirEntries(fields[1] ?? '') : null);
        break;
      case 'lock': {
        const lock = parseLock(fields);
        const end = after !== undefined ? parseLock(after.split('\t')) : undefined;
        facts.locks?.set(
          request.path,
          torn && end ? { ...lock, ...end, state: 'held', serial: lock.serial, torn: true } : lock,
        );
        break;
      }
      case 'generations':
        facts.generations?.set(request.dir, parseGenerationEntries(fields[1] ?? ''));
        break;
      case 'temp-files':
        facts.tempFiles?.set(
          request.dir,
          fromBase64(fields[1] ?? '')
            .split('\n')
            .filter((name) => name !== ''),
        );
        break;
    }
  }
  if (!ended || answered.size !== requests.length) {
    throw new HostReadError(
      `the host's answer to the fact read was cut short (${answered.size} of ${requests.length} answers)`,
    );
  }
  return { ...facts, uid };
}

export interface GatherOptions {
  /**
   * Wraps the read program into the command line that runs it as root (adds sudo when needed),
   * with its own text as $1 (see hostProgramLine).
   */
  commandLine: (script: string) => string;
  timeoutMs?: number;
}

/** How long the read may wait for the host's lock, on top of its own time. */
function waitMs(requests: readonly FactRequest[]): number {
  const lock = requests.find((r) => r.kind === 'lock');
  return lock?.kind === 'lock' ? (lock.waitSeconds ?? 0) * 1000 : 0;
}

/** One round trip: every fact every task asked for. */
export async function gatherFacts(
  executor: Executor,
  requests: readonly FactRequest[],
  options: GatherOptions,
): Promise<HostFacts & { uid: number }> {
  // The lock first: a read that waits for it reads everything else after the wait.
  const unique = dedupeRequests(requests).sort(
    (a, b) => Number(b.kind === 'lock') - Number(a.kind === 'lock'),
  );
  const result = await executor.exec(options.commandLine(READ_PROGRAM), {
    stdin: encodeRequests(unique),
    timeoutMs: (options.timeoutMs ?? 60_000) + waitMs(unique),
  });
  if (result.timedOut) throw new HostReadError('reading the host state timed out');
  if (result.exitCode !== 0) {
    throw new HostReadError(describeFailure(result.exitCode, result.stderr.toString('utf8')));
  }
  return parseFacts(unique, result.stdout.toString('utf8'));
}

/** Turns a failed batch's stderr into a message, recognising sudo's password prompt. */
export function describeFailure(exitCode: number | null, stderr: string): string {
  if (/sudo: (a password is required|a terminal is required)/.test(stderr)) {
    return 'sudo asked for a password: `become: sudo` needs passwordless sudo (NOPASSWD) for the login user, or log in as root with `become: none`';
  }
  const text = stderr.trim().split('\n').slice(-5).join('\n');
  return `command failed with exit code ${exitCode ?? 'none'}${text ? `: ${text}` : ''}`;
}
