import type { Attrs, PathFact } from '../facts/types.js';
import type { Secret } from '../secret.js';

/** A task's name (the registry, tasks/index.ts, says which exist): `--tags` and the reports use it. */
export type TaskName = string;

/** The bytes a file should hold: plain text (diffable) or a secret (never shown). */
export type FileBody = { text: string } | { secret: Secret };

/**
 * One thing a run would do on a host: plain data, computed by a task's pure planner from the
 * host's facts, and carried out only by the apply step. A task in sync plans no change.
 */
export type Change =
  | { kind: 'group-create'; name: string }
  | { kind: 'user-create'; name: string; group: string; home: string; shell: string }
  /** mkdir when absent, then owner and mode. */
  | { kind: 'dir'; path: string; attrs: Attrs; before: PathFact }
  /** Atomic write: temp file in the same directory with final mode+owner, renamed over path. */
  | { kind: 'file'; path: string; body: FileBody; attrs: Attrs; before: PathFact }
  /** Content already right; only mode and/or owner differ. */
  | { kind: 'attrs'; path: string; attrs: Attrs; before: PathFact }
  | { kind: 'symlink'; path: string; target: string; before: PathFact }
  | { kind: 'remove'; path: string; before: PathFact }
  | {
      kind: 'systemd';
      action: 'daemon-reload' | 'enable' | 'disable' | 'start' | 'stop' | 'restart';
      unit: string;
      /** Why, for humans: `unit file changed`, `config.yaml changed`, … */
      reason?: string;
    }
  /**
   * After a (re)start: the unit must become active and stay active `seconds`; when `command`
   * is set it must also exit 0, run on the host as `user`.
   */
  | { kind: 'wait-healthy'; unit: string; seconds: number; command?: string; user: string }
  /**
   * `set` records, before the first write the gateway reads, that it must restart; `clear`
   * forgets it once a restart passed its health check (see tasks/restart-pending.ts).
   */
  | { kind: 'restart-pending'; action: 'set' | 'clear'; path: string }
  | {
      kind: 'container-remove';
      backend: 'docker' | 'podman';
      name: string;
      reason: string;
    };

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
