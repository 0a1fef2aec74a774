import type { HostSpec } from '../src/inventory/types.js';
import type { ServiceAccess } from '../src/plan/service-access.js';
import type { StatusProbe, Task } from '../src/plan/task.js';
import { dirsTask } from './dirs.js';
import { docsTask } from './docs.js';
import { containerName } from './lib/container.js';
import { serviceEnvironment } from './lib/unit-file.js';
import { mergeTask } from './merge.js';
import { packagesTask } from './packages.js';
import { pluginsTask } from './plugins.js';
import { releasePaths, releaseTask } from './release.js';
import { restartTask } from './restart.js';
import { rollbackTask } from './rollback.js';
import { secretsTask } from './secrets.js';
import { serviceTask } from './service.js';
import { currentGenerationFile, hermesPaths, unitName } from './lib/layout.js';
import { usersTask } from './users.js';

export type { Task } from '../src/plan/task.js';

/**
 * The registry: every host runs these tasks, in this order. Adding a task is adding it here;
 * everything else (--tags, the reports, the recap) takes the names from this list.
 */
export const TASKS: readonly Task[] = [
  usersTask,
  dirsTask,
  releaseTask,
  mergeTask,
  secretsTask,
  docsTask,
  pluginsTask,
  packagesTask,
  serviceTask,
];

/** The task names, in run order: what `--tags` accepts. */
export const TASK_NAMES = TASKS.map((task) => task.name) as [string, ...string[]];

/**
 * The gateway's unit, and its program asked for its version as the service user. With releases,
 * the release the host is on (the `current` link), not the one the inventory names.
 */
export function statusProbe(host: HostSpec): StatusProbe {
  const release = host.hermes.release;
  if (release) {
    const { current } = releasePaths(release);
    return {
      unit: unitName(host.hermes),
      program: { path: `${current}/bin/hermes`, user: host.hermes.user },
      release: { link: current },
      generation: currentGenerationFile(host.hermes),
    };
  }
  return {
    unit: unitName(host.hermes),
    program: { path: hermesPaths(host.hermes).bin, user: host.hermes.user },
    generation: currentGenerationFile(host.hermes),
  };
}

/**
 * What `hermes-fleet restart` runs on each host instead of TASKS: the gateway's restart and the
 * run's health check, nothing else (tasks/restart.ts).
 */
export const RESTART_TASKS: readonly Task[] = [restartTask];

/**
 * What `hermes-fleet rollback` runs on each host: generation `to` (default: the one before the
 * current) put back, restarted, health-checked and recorded (tasks/rollback.ts).
 */
export function rollbackTasks(to?: number): readonly Task[] {
  return [rollbackTask(to)];
}

/** Every task name a report can hold: the run's tasks, then restart's. */
export const REPORTED_TASK_NAMES = [
  ...TASK_NAMES,
  ...RESTART_TASKS.map((task) => task.name),
  rollbackTask().name,
] as [string, ...string[]];

/**
 * The gateway as the day-2 commands reach it: its unit, its log (the unit's journal, or in
 * container mode the container's), and the account, directory and environment it runs with.
 */
export function serviceAccess(host: HostSpec): ServiceAccess {
  const h = host.hermes;
  return {
    unit: unitName(h),
    log: h.container.enable
      ? { kind: 'container', backend: h.container.backend, name: containerName(h) }
      : { kind: 'journal', unit: unitName(h) },
    account: {
      user: h.user,
      cwd: hermesPaths(h).workingDirectory,
      env: serviceEnvironment(h),
    },
  };
}
