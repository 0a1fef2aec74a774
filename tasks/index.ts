import { dirsTask } from './dirs.js';
import { docsTask } from './docs.js';
import { mergeTask } from './merge.js';
import { secretsTask } from './secrets.js';
import { serviceTask } from './service.js';
import type { Task } from './task.js';
import { usersTask } from './users.js';

export type { Task } from './task.js';

/** Every host runs these, in this order (see the spec's tasks.md). */
export const TASKS: readonly Task[] = [
  usersTask,
  dirsTask,
  mergeTask,
  secretsTask,
  docsTask,
  serviceTask,
];
