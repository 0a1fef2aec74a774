import { Secret } from '../secret.js';
import type {
  DirEntry,
  FactRequest,
  GenerationEntry,
  LockFact,
  PathFact,
  UnitFact,
  VersionFact,
} from './types.js';

/**
 * How the host's answer lines become typed facts: the parsers that FACT_KINDS (fact-kinds.ts)
 * names, one per shape of answer.
 */

type RequestOf<K extends FactRequest['kind']> = Extract<FactRequest, { kind: K }>;

/** The host answered, but not in a way facts can be built from (e.g. a file it cannot read). */
export class HostReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostReadError';
  }
}

/** `SECONDS/NAME` entries, NUL-separated (find -printf; a name has no `/` and no NUL). */
export function parseDirEntries(base64: string): DirEntry[] {
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

export function fromBase64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

export function parsePath(request: RequestOf<'path'>, fields: readonly string[]): PathFact {
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

export function parseUnit(encoded: string): UnitFact {
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

export function parseVersion(
  request: RequestOf<'version'>,
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

/** `key=value` lines (a lock's holder), later keys winning. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * `STATE<TAB>SERIAL<TAB>BOOT<TAB>HOLDER<TAB>STREAMING` (read.sh's probe_lock), after one leading
 * field.
 */
export function parseLock(fields: readonly string[]): LockFact {
  const [, state = '', serial = '', bootId = '', holder = '', streaming = ''] = fields;
  const known = state === 'free' || state === 'held' || state === 'stale';
  return {
    state: known ? state : 'unknown',
    serial,
    bootId,
    ...(holder !== '' ? { holder: parseKeyValues(fromBase64(holder)) } : {}),
    ...(streaming === '1' ? { streaming: true } : {}),
  };
}

/** `NUMBER<TAB>RELEASE<TAB>LINKED` lines, in base64 (read.sh's generations case), oldest first. */
export function parseGenerationEntries(base64: string): GenerationEntry[] {
  return fromBase64(base64)
    .split('\n')
    .filter((line) => /^[0-9]+\t/.test(line))
    .map((line) => {
      const [number = '', release = '', linked = ''] = line.split('\t');
      const links = linked.split(' ').filter((name) => name !== '');
      return {
        number: Number(number),
        ...(release !== '' ? { release } : {}),
        ...(links.length > 0 ? { linked: links } : {}),
      };
    })
    .sort((a, b) => a.number - b.number);
}
