import type { HostSpec } from '../src/inventory/types.js';
import type { StatusProbe, Task } from '../src/plan/task.js';
import { dirsTask } from './dirs.js';
import { docsTask } from './docs.js';
import { mergeTask } from './merge.js';
import { secretsTask } from './secrets.js';
import { serviceTask } from './service.js';
import { UNIT_NAME, hermesPaths } from './lib/layout.js';
import { usersTask } from './users.js';

export type { Task } from '../src/plan/task.js';

/**
 * The registry: every host runs these tasks, in this order. Adding a task is adding it here;
 * everything else (--tags, the reports, the recap) takes the names from this list.
 */
export const TASKS: readonly Task[] = [
  usersTask,
  dirsTask,
  mergeTask,
  secretsTask,
  docsTask,
  serviceTask,
];

/** The task names, in run order: what `--tags` accepts. */
export const TASK_NAMES = TASKS.map((task) => task.name) as [string, ...string[]];

/** The gateway's unit, and its program asked for its version as the service user. */
export function statusProbe(host: HostSpec): StatusProbe {
  return {
    unit: UNIT_NAME,
    program: { path: hermesPaths(host.hermes).bin, user: host.hermes.user },
  };
}
