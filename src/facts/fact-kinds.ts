import {
  fromBase64,
  parseDirEntries,
  parseGenerationEntries,
  parseLock,
  parsePath,
  parseUnit,
  parseVersion,
} from './answer-parsers.js';
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

export { HostReadError, parseKeyValues, parseLock } from './answer-parsers.js';

/** What the host answers to each kind of request, once parsed. */
export interface FactValues {
  path: PathFact;
  'temp-files': string[];
  'dir-entries': DirEntry[] | null;
  user: UserFact | null;
  group: GroupFact | null;
  unit: UnitFact;
  command: boolean;
  package: boolean;
  container: ContainerFact;
  image: boolean;
  version: VersionFact;
  lock: LockFact;
  generations: GenerationEntry[];
}

export type FactKind = FactRequest['kind'];
export type RequestOf<K extends FactKind> = Extract<FactRequest, { kind: K }>;

/**
 * The record of one fact kind, its request and its parser side by side (as pyinfra's fact
 * classes hold their command and their parser): what makes two requests the same, the named
 * fields read.sh's `case` of the same name reads, how its answer line becomes a typed value, and
 * where that value goes in HostFacts. One entry per kind of `FactRequest`; a kind without one
 * (or an entry without one of these) fails to compile.
 */
export interface FactKindRecord<K extends FactKind> {
  /** Two requests with the same key are read once (the kind is put in front of it). */
  key: (request: RequestOf<K>) => string;
  /**
   * One request for two with the same key (the first one seen, and this one). Absent: the first
   * one is kept.
   */
  merge?: (seen: RequestOf<K>, request: RequestOf<K>) => RequestOf<K>;
  /** The request line's named fields, in the names read.sh reads. */
  fields: (request: RequestOf<K>) => Record<string, string | undefined>;
  /**
   * Whether an answer already stored wins over this one, which is then not even parsed (a path
   * asked both followed and not). Absent: each answer is stored.
   */
  settled?: (facts: HostFacts, request: RequestOf<K>) => boolean;
  /** The answer line's fields after `INDEX<TAB>` (the first is often `found`/`absent`). */
  parse: (request: RequestOf<K>, fields: readonly string[]) => FactValues[K];
  /** Puts the answer where the tasks look it up. */
  store: (facts: HostFacts, request: RequestOf<K>, value: FactValues[K]) => void;
  /** What the host answers when nothing is there: the start of a test's facts (test/utils/facts.ts). */
  nothing: (request: RequestOf<K>) => FactValues[K];
}

/** What `systemctl show` says of a unit that does not exist. */
export const UNIT_NOT_FOUND: UnitFact = {
  loadState: 'not-found',
  activeState: 'inactive',
  subState: 'dead',
  unitFileState: '',
  activeEnterTimestampUs: 0,
  mainPid: 0,
  nRestarts: 0,
};

/** Facts with nothing in them yet: one map per place a kind stores its answers. */
export function emptyFacts(): HostFacts {
  return {
    paths: new Map(),
    users: new Map(),
    groups: new Map(),
    units: new Map(),
    commands: new Map(),
    packages: new Map(),
    containers: new Map(),
    images: new Map(),
    versions: new Map(),
    tempFiles: new Map(),
    dirEntries: new Map(),
    locks: new Map(),
    generations: new Map(),
  };
}

const found = (fields: readonly string[]): boolean => fields[0] === 'found';

export const FACT_KINDS: { [K in FactKind]: FactKindRecord<K> } = {
  path: {
    key: (r) => `${r.follow ? 'follow' : 'nofollow'}\t${r.path}`,
    merge: (seen, r) => {
      const as = r.as ?? seen.as;
      const tree = r.tree ?? seen.tree;
      return {
        kind: 'path',
        path: r.path,
        content: Boolean(seen.content) || Boolean(r.content),
        secret: Boolean(seen.secret) || Boolean(r.secret),
        ...(r.follow ? { follow: true } : {}),
        // Asked by anyone as the account, it is read as the account.
        ...(as !== undefined ? { as } : {}),
        ...(tree !== undefined ? { tree } : {}),
      };
    },
    fields: (r) => ({
      path: r.path,
      content: r.content ? '1' : undefined,
      follow: r.follow ? '1' : undefined,
      as: r.as,
      tree: r.as === undefined ? undefined : r.tree,
    }),
    // Asked both ways, the unfollowed answer wins: it is the one that can be trusted for a
    // name the service account could have swapped.
    settled: (facts, r) => r.follow === true && facts.paths.has(r.path),
    parse: parsePath,
    store: (facts, r, value) => facts.paths.set(r.path, value),
    nothing: () => ({ kind: 'absent' }),
  },
  'temp-files': {
    key: (r) => `${r.as ?? ''}\t${r.dir}`,
    fields: (r) => ({ path: r.dir, as: r.as }),
    parse: (_r, fields) =>
      fromBase64(fields[1] ?? '')
        .split('\n')
        .filter((name) => name !== ''),
    store: (facts, r, value) => facts.tempFiles?.set(r.dir, value),
    nothing: () => [],
  },
  'dir-entries': {
    key: (r) => r.dir,
    fields: (r) => ({ path: r.dir }),
    parse: (_r, fields) => (found(fields) ? parseDirEntries(fields[1] ?? '') : null),
    store: (facts, r, value) => facts.dirEntries?.set(r.dir, value),
    nothing: () => null,
  },
  user: {
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => {
      if (!found(fields)) return null;
      const [name = '', , uid, gid, , home = '', shell = ''] = (fields[1] ?? '').split(':');
      return { name, uid: Number(uid), gid: Number(gid), home, shell };
    },
    store: (facts, r, value) => facts.users.set(r.name, value),
    nothing: () => null,
  },
  group: {
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => {
      if (!found(fields)) return null;
      const [name = '', , gid, members = ''] = (fields[1] ?? '').split(':');
      const list = members.split(',').filter((m) => m !== '');
      return { name, gid: Number(gid), ...(list.length > 0 ? { members: list } : {}) };
    },
    store: (facts, r, value) => facts.groups.set(r.name, value),
    nothing: () => null,
  },
  unit: {
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => parseUnit(fields[1] ?? ''),
    store: (facts, r, value) => facts.units.set(r.name, value),
    nothing: () => ({ ...UNIT_NOT_FOUND }),
  },
  command: {
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => found(fields),
    store: (facts, r, value) => facts.commands.set(r.name, value),
    nothing: () => false,
  },
  package: {
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => found(fields),
    store: (facts, r, value) => facts.packages?.set(r.name, value),
    nothing: () => false,
  },
  container: {
    key: (r) => `${r.backend}\t${r.name}`,
    fields: (r) => ({ backend: r.backend, name: r.name }),
    parse: (_r, fields) => {
      if (!found(fields)) return { exists: false };
      const [id, running, image] = (fields[1] ?? '').split(' ');
      return {
        exists: true,
        ...(id ? { id } : {}),
        running: running === 'true',
        ...(image ? { image } : {}),
      };
    },
    store: (facts, r, value) => facts.containers.set(`${r.backend}:${r.name}`, value),
    nothing: () => ({ exists: false }),
  },
  image: {
    key: (r) => `${r.backend}\t${r.image}`,
    fields: (r) => ({ backend: r.backend, image: r.image }),
    parse: (_r, fields) => found(fields),
    store: (facts, r, value) => facts.images.set(`${r.backend}:${r.image}`, value),
    nothing: () => false,
  },
  version: {
    key: (r) => r.path,
    fields: (r) => ({ path: r.path, user: r.user }),
    parse: parseVersion,
    store: (facts, r, value) => facts.versions?.set(r.path, value),
    nothing: () => ({ kind: 'absent' }),
  },
  lock: {
    key: (r) => r.path,
    // Waited for by anyone, it is waited for.
    merge: (seen, r) => ((r.waitSeconds ?? 0) > (seen.waitSeconds ?? 0) ? r : seen),
    fields: (r) => ({
      path: r.path,
      seconds: r.waitSeconds ? String(Math.ceil(r.waitSeconds)) : undefined,
    }),
    // `INDEX<TAB>lock<TAB>STATE<TAB>...`: the fields after the index start with the kind.
    parse: (_r, fields) => parseLock(fields),
    store: (facts, r, value) => facts.locks?.set(r.path, value),
    nothing: () => ({ state: 'free', serial: '0', bootId: '' }),
  },
  generations: {
    key: (r) => r.dir,
    fields: (r) => ({ path: r.dir }),
    parse: (_r, fields) => parseGenerationEntries(fields[1] ?? ''),
    store: (facts, r, value) => facts.generations?.set(r.dir, value),
    nothing: () => [],
  },
};

/** A request's entry in FACT_KINDS. */
export function factKindOf<K extends FactKind>(request: RequestOf<K>): FactKindRecord<K> {
  return FACT_KINDS[request.kind];
}

/** Two requests with the same key ask the same thing. */
export function requestKey(request: FactRequest): string {
  return `${request.kind}\t${factKindOf(request).key(request)}`;
}

/** Two requests with the same key (so of the same kind) as one. */
export function mergeRequests(seen: FactRequest, request: FactRequest): FactRequest {
  const { merge } = factKindOf(request);
  return merge && seen.kind === request.kind ? merge(seen, request) : seen;
}

/** Parses one answer and puts it in `facts`. */
export function storeAnswer(facts: HostFacts, request: FactRequest, fields: readonly string[]) {
  const kind = factKindOf(request);
  if (kind.settled?.(facts, request) === true) return;
  kind.store(facts, request, kind.parse(request, fields));
}

/** Puts in `facts` what the host answers to `request` when nothing is there. */
export function storeNothing(facts: HostFacts, request: FactRequest): void {
  const kind = factKindOf(request);
  kind.store(facts, request, kind.nothing(request));
}
