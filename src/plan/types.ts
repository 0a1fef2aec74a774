import type { Attrs, PathFact } from '../facts/types.js';
import type { ImageArchive, ReleaseSource } from '../inventory/types.js';
import type { Secret } from '../secret.js';

/** A task's name (the registry, tasks/index.ts, says which exist): `--tags` and the reports use it. */
export type TaskName = string;

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

/**
 * One thing a run would do on a host: plain data, computed by a task's pure planner from the
 * host's facts, and carried out only by the apply step, by an operation of the same name
 * (src/apply/apply.sh). A task in sync plans no change.
 */
export type Change =
  | { kind: 'group-create'; name: string }
  | { kind: 'user-create'; name: string; group: string; home: string; shell: string }
  /** mkdir when absent, then owner and mode. */
  | ({ kind: 'dir'; path: string; attrs: Attrs; before: PathFact } & Actor)
  /** Atomic write: temp file in the same directory with final mode+owner, renamed over path. */
  | ({
      kind: 'file';
      path: string;
      body: FileBody;
      attrs: Attrs;
      before: PathFact;
      /** Keys this write removes because the inventory no longer has them. */
      forgets?: Forgotten[];
    } & Actor)
  /** Content already right; only mode and/or owner differ. */
  | ({ kind: 'attrs'; path: string; attrs: Attrs; before: PathFact } & Actor)
  | ({ kind: 'symlink'; path: string; target: string; before: PathFact } & Actor)
  | ({
      kind: 'remove';
      path: string;
      before: PathFact;
      /** Why, for humans, when it is not plain: `no longer in the inventory`. */
      why?: string;
    } & Actor)
  | {
      kind: 'systemd';
      action: 'daemon-reload' | 'enable' | 'disable' | 'start' | 'stop' | 'restart';
      unit: string;
      /** Why, for humans: `unit file changed`, `config.yaml changed`, … */
      reason?: string;
    }
  /**
   * After a (re)start: the unit must become active and stay active `seconds`; when `command`
   * is set it must also exit 0, run on the host as `user`. `rollback`: the host had a gateway
   * before this run, so a failure puts back what the run changed (see `undo` in
   * src/apply/change-kinds.ts); a first deploy
   * has nothing to go back to and is left as the run made it.
   */
  | {
      kind: 'wait-healthy';
      unit: string;
      seconds: number;
      command?: string;
      user: string;
      rollback?: boolean;
      /** The generation the host was on before this run, when it has one: what a rollback restores. */
      generation?: number;
    }
  /**
   * A note in root's /run that `unit` owes a restart: `set` before the first write the unit
   * reads, `clear` once a restart passed its health check. A run that stops half-way leaves it,
   * so the next run restarts the unit.
   */
  | { kind: 'restart-pending'; action: 'set' | 'clear'; path: string; unit: string }
  /**
   * A release unpacked into `path` (`<root>/releases/<id>`, root's): the archive's bytes follow
   * on stdin (a local archive) or the host downloads them (a `url`), land in a temporary
   * directory beside it, are checked (size, sha256, an executable bin/hermes) and only then
   * renamed to `path`. Nothing to undo: an unused release is harmless.
   */
  | { kind: 'release-unpack'; path: string; archive: ReleaseSource }
  /**
   * The `current` link (`path`) replaced atomically by one to `target` (`releases/<id>`), and
   * that release's directory touched: its mtime is when it was last switched to (pruning goes
   * oldest switch first). `from`/`to`: the release ids, for people (`from` absent on a first
   * install).
   */
  | {
      kind: 'release-switch';
      path: string;
      target: string;
      before: PathFact;
      from?: string;
      to: string;
    }
  /** A release directory, or a killed upload's temporary directory, removed whole (root's). */
  | { kind: 'release-remove'; path: string; why: string }
  /**
   * A container image archive loaded into `backend`'s store: its bytes follow on stdin, land in
   * a root-only temporary directory, are checked (size, sha256), loaded, and the image id is
   * then asked of the runtime. Nothing to undo: an unused image is harmless.
   */
  | { kind: 'image-load'; backend: 'docker' | 'podman'; archive: ImageArchive }
  /**
   * After a healthy (re)start: the files the gateway reads, as deployed, copied into a new
   * generation under `path` (root's, 0700; numbered from 1, `current` names the newest), with
   * their modes, owners and hashes, the release `releaseLink` points to, and who recorded it;
   * all but the newest `keep` generations are removed.
   */
  | {
      kind: 'generation';
      path: string;
      keep: number;
      files: GenerationFile[];
      releaseLink?: string;
    }
  /**
   * Puts generation `number` (absent: the newest one below the current) back: each file it kept
   * written to its path as a `file` change would, by the same actor, and one it found absent
   * removed. The unit's reload, restart and health check follow as separate changes.
   */
  | { kind: 'generation-restore'; path: string; number?: number; unit: string }
  /** Removes a container (`rm -f`) that must be recreated; fails only if it is still there. */
  | {
      kind: 'container-remove';
      backend: 'docker' | 'podman';
      name: string;
      reason: string;
    };

export type ChangeKind = Change['kind'];

/** The change of one kind (or of several). */
export type ChangeOf<K extends ChangeKind> = Extract<Change, { kind: K }>;

/** A file a generation keeps a copy of: its name there, where it is, who reads it. */
export interface GenerationFile {
  /** `unit`, `config.yaml`, `.env`, `auth.json`, `documents/SOUL.md`. */
  name: string;
  path: string;
  /** The account that reads it (the path is in its tree); root reads the others. */
  as?: string;
  /** Its differences are shown by name only. */
  secret?: boolean;
}

export interface TaskPlan {
  task: TaskName;
  changes: Change[];
}

/**
 * A planning failure that must stop the host before anything is written (e.g. the package's
 * bin/hermes is missing). The message is for the person running the fleet.
 */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}
