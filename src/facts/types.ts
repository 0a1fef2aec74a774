import type { Secret } from '../secret.js';

/** The requests a read answers are declared beside their parsers, one record each. */
export type { FactRequest } from './fact-kinds.js';

export interface Attrs {
  /** Permission bits, e.g. 0o640. */
  mode: number;
  user: string;
  group: string;
}

interface StatFact extends Attrs {
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
}

export type PathFact =
  | { kind: 'absent' }
  | (StatFact & { kind: 'file'; text?: string; secret?: Secret })
  | (StatFact & { kind: 'dir' })
  | (StatFact & { kind: 'symlink'; target: string })
  | (StatFact & { kind: 'other' });

/** `0750`: permission bits as people (and chmod) write them. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

const PATH_KIND_NOUNS: Record<PathFact['kind'], string> = {
  absent: 'nothing',
  file: 'file',
  dir: 'directory',
  symlink: 'symlink',
  other: 'special file',
};

/** A path's kind as a short noun (`directory`), for one-line summaries. */
export function pathKindNoun(kind: PathFact['kind']): string {
  return PATH_KIND_NOUNS[kind];
}

/** What is at a path, for messages: `a directory`, `a symbolic link to /etc`, … */
export function describePathKind(fact: PathFact): string {
  switch (fact.kind) {
    case 'absent':
      return 'nothing';
    case 'file':
      return 'a regular file';
    case 'dir':
      return 'a directory';
    case 'symlink':
      return `a symbolic link to ${fact.target}`;
    case 'other':
      return 'a special file';
  }
}

/**
 * Unit states in which the unit's process runs or is starting: a change it reads needs a
 * restart (not a start).
 */
export const UNIT_PROCESS_STATES: ReadonlySet<string> = new Set([
  'active',
  'reloading',
  'activating',
]);

/** Unit states that `status` reports as running (a unit still activating is not, yet). */
export const UNIT_UP_STATES: ReadonlySet<string> = new Set(['active', 'reloading']);

export interface UserFact {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupFact {
  name: string;
  gid: number;
}

/** `systemctl show` of a unit. A unit that does not exist has loadState `not-found`. */
export interface UnitFact {
  loadState: string;
  activeState: string;
  subState: string;
  /** enabled, disabled, static, … ('' when not found). */
  unitFileState: string;
  /** Microseconds since the epoch of the last entry into `active`; 0 when never. */
  activeEnterTimestampUs: number;
  /** Microseconds since the epoch of the last change of state (any state); 0 when never. */
  stateChangeTimestampUs?: number;
  mainPid: number;
  nRestarts: number;
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

export interface ContainerFact {
  exists: boolean;
  id?: string;
  running?: boolean;
  image?: string;
}

/**
 * What `<path> --version` said: the start of its output (stdout and stderr together, at most
 * 2 KiB) and its exit code (124 when it ran out of time), or `absent` when nothing is at path,
 * or `no-user` when the user to run it as does not exist (so it was not run).
 */
export type VersionFact =
  | { kind: 'absent' }
  | { kind: 'no-user'; user: string }
  | { kind: 'ran'; exitCode: number; output: string };

/** Everything read from one host, keyed by the request that asked for it. */
export interface HostFacts {
  paths: Map<string, PathFact>;
  users: Map<string, UserFact | null>;
  groups: Map<string, GroupFact | null>;
  units: Map<string, UnitFact>;
  commands: Map<string, boolean>;
  /** Keyed by `${backend}:${name}`. */
  containers: Map<string, ContainerFact>;
  /** Keyed by `${backend}:${image}`. */
  images: Map<string, boolean>;
  /**
   * Keyed by path. Optional because no task asks for a version (`status` does), so a task's
   * fixture facts need not carry it.
   */
  versions?: Map<string, VersionFact>;
  /** Keyed by directory: the names of the temporary files found in it. Optional as `versions`. */
  tempFiles?: Map<string, string[]>;
  /**
   * Keyed by directory: its entries, or null when it is not a directory. Optional as
   * `versions`.
   */
  dirEntries?: Map<string, DirEntry[] | null>;
  /** Keyed by the lock file's path. Optional as `versions`. */
  locks?: Map<string, LockFact>;
  /** Keyed by directory: the generations kept there. Optional as `versions`. */
  generations?: Map<string, GenerationEntry[]>;
}

/**
 * The host's lock as the read found it: `free`, `held` by a batch that is running, or `stale`
 * (its file still names a holder that is gone: killed, or the host rebooted). `holder` is the
 * file's `key=value` lines (who, command, pid, batch, since, epoch, boot); `serial` counts the
 * batches that took it, `bootId` is the host's boot now.
 */
export interface LockFact {
  state: 'free' | 'held' | 'stale' | 'unknown';
  serial: string;
  bootId: string;
  holder?: Record<string, string>;
  /**
   * A batch took the lock while the read went on (held at its end, or the serial moved): what
   * was read may be half old, half new. `state` is then `held`.
   */
  torn?: boolean;
  /**
   * The last batch's output (detach.sh's apply/result) is still being streamed to its
   * controller: whatever it says, it is no cut-off.
   */
  streaming?: boolean;
}

/** A generation kept on the host: its number, and the release id it recorded (if any). */
export interface GenerationEntry {
  number: number;
  release?: string;
}

/** One name in a directory, and when it last changed (ms since the epoch). */
export interface DirEntry {
  name: string;
  mtimeMs: number;
}
