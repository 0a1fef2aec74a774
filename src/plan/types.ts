import type { Change } from '../changes/index.js';

/** A task's name (the registry, tasks/index.ts, says which exist): `--tags` and the reports use it. */
export type TaskName = string;

/** The change kinds themselves live in src/changes (one record each); tasks take them from here. */
export type {
  Actor,
  Change,
  ChangeKind,
  ChangeOf,
  FileBody,
  Forgotten,
  GenerationFile,
} from '../changes/index.js';
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
