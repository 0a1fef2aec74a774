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
  GenerationEntry,
  GroupFact,
  HostFacts,
  LockFact,
  PathFact,
  UnitFact,
  UserFact,
  VersionFact,
} from './types.js';
import { UNIT_NOT_FOUND } from './types.js';

export { HostReadError, parseKeyValues, parseLock } from './answer-parsers.js';

/**
 * What a task asks to know about a host before it plans. All requests are read in one batch, one
 * line each, answered by read.sh's `case` of the same name.
 */
export type FactRequest =
  /**
   * stat of a path; with `content`, its text too; with `secret`, the text arrives as a Secret.
   * With `follow`, a link is followed and the fact describes its target (a dangling link reads
   * as absent): only for root-chosen paths, never for ones the service account can swap. When a
   * path is also asked without `follow`, that answer is the one kept.
   */
  | {
      kind: 'path';
      path: string;
      content?: boolean;
      secret?: boolean;
      follow?: boolean;
      /**
       * Read as this account, never as root: for paths in a tree the account owns, where it can
       * swap any name for a link. Root reads when the account does not exist yet.
       */
      as?: string;
      /**
       * With `as`: the top of the account's tree. A file there the account cannot read (one it
       * must be handed) is then read by root, from inside its directory checked to be the one
       * the path names.
       */
      tree?: string;
    }
  /** The `.hermes-fleet.*` temporary files a killed run left in `dir`, listed as `as`. */
  | { kind: 'temp-files'; dir: string; as?: string }
  /** The entries of a directory only root can write (a release root's `releases/`), with mtimes. */
  | { kind: 'dir-entries'; dir: string }
  | { kind: 'user'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'unit'; name: string }
  /** Whether a command is on the host's PATH (docker, podman, …). */
  | { kind: 'command'; name: string }
  /** `<backend> inspect <name>`: does the container exist, its id, is it running. */
  | { kind: 'container'; backend: 'docker' | 'podman'; name: string }
  /** Does `<backend> image inspect <image>` find the image on the host. */
  | { kind: 'image'; backend: 'docker' | 'podman'; image: string }
  /**
   * `<path> --version` run as `user` (in /, stdin /dev/null, 5 s at most): what a program says
   * it is. Never as root: the program's directory may be writable by that user.
   */
  | { kind: 'version'; path: string; user: string }
  /**
   * The host's lock (src/runner/host-lock.ts): free, held or stale, with its holder and the
   * serial. With `waitSeconds`, the read waits up to that long for a holder to finish; the
   * request is then answered before every other, so the rest is read after the wait.
   */
  | { kind: 'lock'; path: string; waitSeconds?: number }
  /** The generations kept in root's `dir`: each one's number and the release it recorded. */
  | { kind: 'generations'; dir: string };

/** What the host answers to each kind of request, once parsed. */
export interface FactValues {
  path: PathFact;
  'temp-files': string[];
  'dir-entries': DirEntry[] | null;
  user: UserFact | null;
  group: GroupFact | null;
  unit: UnitFact;
  command: boolean;
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
  /** A request of this kind with every optional field set: the tests send it to read.sh. */
  example: RequestOf<K>;
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

const found = (fields: readonly string[]): boolean => fields[0] === 'found';

export const FACT_KINDS: { [K in FactKind]: FactKindRecord<K> } = {
  path: {
    example: { kind: 'path', path: '/p', content: true, follow: true, as: 'a', tree: '/t' },
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
    example: { kind: 'temp-files', dir: '/d', as: 'a' },
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
    example: { kind: 'dir-entries', dir: '/d' },
    key: (r) => r.dir,
    fields: (r) => ({ path: r.dir }),
    parse: (_r, fields) => (found(fields) ? parseDirEntries(fields[1] ?? '') : null),
    store: (facts, r, value) => facts.dirEntries?.set(r.dir, value),
    nothing: () => null,
  },
  user: {
    example: { kind: 'user', name: 'u' },
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
    example: { kind: 'group', name: 'g' },
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => {
      if (!found(fields)) return null;
      const [name = '', , gid] = (fields[1] ?? '').split(':');
      return { name, gid: Number(gid) };
    },
    store: (facts, r, value) => facts.groups.set(r.name, value),
    nothing: () => null,
  },
  unit: {
    example: { kind: 'unit', name: 'x.service' },
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => parseUnit(fields[1] ?? ''),
    store: (facts, r, value) => facts.units.set(r.name, value),
    nothing: () => ({ ...UNIT_NOT_FOUND }),
  },
  command: {
    example: { kind: 'command', name: 'docker' },
    key: (r) => r.name,
    fields: (r) => ({ name: r.name }),
    parse: (_r, fields) => found(fields),
    store: (facts, r, value) => facts.commands.set(r.name, value),
    nothing: () => false,
  },
  container: {
    example: { kind: 'container', backend: 'docker', name: 'c' },
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
    example: { kind: 'image', backend: 'podman', image: 'i' },
    key: (r) => `${r.backend}\t${r.image}`,
    fields: (r) => ({ backend: r.backend, image: r.image }),
    parse: (_r, fields) => found(fields),
    store: (facts, r, value) => facts.images.set(`${r.backend}:${r.image}`, value),
    nothing: () => false,
  },
  version: {
    example: { kind: 'version', path: '/bin/x', user: 'u' },
    key: (r) => r.path,
    fields: (r) => ({ path: r.path, user: r.user }),
    parse: parseVersion,
    store: (facts, r, value) => facts.versions?.set(r.path, value),
    nothing: () => ({ kind: 'absent' }),
  },
  lock: {
    example: { kind: 'lock', path: '/l', waitSeconds: 3 },
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
    example: { kind: 'generations', dir: '/g' },
    key: (r) => r.dir,
    fields: (r) => ({ path: r.dir }),
    parse: (_r, fields) => parseGenerationEntries(fields[1] ?? ''),
    store: (facts, r, value) => facts.generations?.set(r.dir, value),
    nothing: () => [],
  },
};
