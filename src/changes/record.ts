import { formatMode, type Attrs } from '../facts/types.js';
import type { StdinPart } from '../exec/write-stdin.js';
import type { Secret } from '../secret.js';
import type { JsonFields } from './json-fields.js';

/*
 * The shape of a change kind's record, and the value types and small helpers the families share.
 * Each family of kinds (./accounts.ts, ./files.ts, ./service.ts, ./release.ts, ./container.ts,
 * ./generations.ts, the same families as src/apply/ops/*.sh) declares its kinds' types and one
 * record for each; ./index.ts joins them.
 */

/**
 * Everything the product knows of one change kind, in one place: how apply.sh's operation of
 * the same name gets it, what a rollback does about it, and how people and CI read it.
 */
export interface ChangeRecord<C> {
  /** What the kind does, in a few words: the report schema's table of kinds shows it. */
  doc: string;
  /** A change of this kind: the tests run every consumer on it, the schema page shows it. */
  example: C;
  /**
   * What an automatic rollback does about it (apply.sh carries it out, as `undo=`):
   * - `path`: before the change, the batch keeps what is at the change's `path` (a file whole, a
   *   link's target, a directory's owner and mode, or that nothing was there) and the rollback
   *   puts exactly that back, whatever the change did. A kind with a `path` declares this and
   *   needs nothing else (its operation must change nothing but `path`, and its actor fields
   *   `as`/`tree` say who may put it back).
   * - `each`: the operation writes several paths, and keeps each one first as a `file` change
   *   would (a generation put back).
   * - `repeat`: the rollback does the same operation again once the paths are back (a container
   *   removed again, so the next start recreates it from the restored definition).
   * - `none`: nothing to put back: accounts (harmless, and deleting one is not), systemd actions
   *   (the rollback itself stops the unit, reloads systemd and starts it again), the health check.
   */
  undo: 'path' | 'each' | 'repeat' | 'none';
  /**
   * Whether the change (re)starts the service or checks it: when it fails in a batch that rolls
   * back (`rollback=1`), everything the batch kept is put back and the old state restarted.
   */
  restarts: (change: C) => boolean;
  /** The operation's named fields, and the bytes that follow its header on stdin. */
  encode: (change: C, context: RecordContext | undefined) => Encoded;
  /**
   * One short line saying what the change does (the text views, the JUnit drift, the JSON
   * `summary`). Never shows file contents, so a secret body cannot appear here.
   */
  describe: (change: C) => string;
  /** Its fields in the JSON report beyond kind, summary and path, built field by field: no Secret. */
  json: (change: C, options: { host: string; diff: boolean }) => JsonFields;
  /** What `--diff` shows of it, in order (none: nothing to show). */
  diff: (change: C, context: DiffContext) => string[];
  /** false: bookkeeping of the run, not drift of the host (check mode's JUnit leaves it out). */
  drift: boolean;
}

/** A family's records: one for each of its kinds, or it fails to compile. */
export type ChangeRecords<C extends { kind: string }> = {
  [K in C['kind']]: ChangeRecord<Extract<C, { kind: K }>>;
};

/**
 * An operation as the change gives it. `body`: bytes that follow the header (`size` says how
 * many). `upload`: a large body got only when the batch is sent (a release or image archive:
 * its file, checked once per run and read as it is sent to each host, never held whole).
 */
export interface Encoded {
  fields: Record<string, string | undefined>;
  body?: Buffer;
  upload?: { size: number; bytes(): Promise<StdinPart> };
}

/**
 * What a generation records about the run that made it, from the control machine: who ran it,
 * which hermes-fleet, and the sha256 of each inventory file.
 */
export interface RecordContext {
  who: string;
  version: string;
  inventory: { file: string; sha256: string }[];
}

/** Where a change's `--diff` lines are written, and how. */
export interface DiffContext {
  host: string;
  /** `web01:/path` (or `web01:` for a change without a path), made one line. */
  where: string;
  color: boolean;
}

/** The bytes a file should hold: plain text (diffable) or a secret (never shown). */
export type FileBody = { text: string } | { secret: Secret };

/**
 * Who carries out a change to a path, and where. `as`: the account that owns the tree the path
 * is in; the change is made by that account, never by root, so a name it swaps for a link
 * gains it nothing. `tree`: the top of such a tree when root must act in it all the same
 * (creating the top itself, handing a directory over): root then works in the parent
 * directory checked to be the one the path names, no component swapped for a link.
 * Neither: a path in a tree only root can change (/etc/systemd, /run).
 */
export interface Actor {
  as?: string;
  tree?: string;
}

/**
 * A key that a write takes out of its file because the inventory no longer has it (the fleet
 * set it on an earlier run). Only its name: a secret's value is never part of a plan.
 */
export interface Forgotten {
  key: string;
  secret?: boolean;
}

export function bodyBytes(body: FileBody): Buffer {
  // The only place a secret file's value is revealed: into the SSH channel's stdin.
  return Buffer.from('text' in body ? body.text : body.secret.reveal(), 'utf8');
}

export const attrFields = (attrs: Attrs) => ({
  mode: formatMode(attrs.mode),
  user: attrs.user,
  group: attrs.group,
});

export const actorFields = (actor: Actor) => ({ as: actor.as, tree: actor.tree });

export const never = (): boolean => false;
export const noFields = (): JsonFields => ({});
export const noDiff = (): string[] => [];

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
