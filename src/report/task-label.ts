/**
 * A task as people read it: `merge`, or with instances `work/merge` (the task of instance
 * `work`). One wording for every report that names tasks (plain lines, live view, recap, JUnit,
 * the web page); the JSON report and the log carry the instance as a field of its own.
 */
export function taskLabel(task: { task: string; instance?: string | undefined }): string {
  return task.instance === undefined ? task.task : `${task.instance}/${task.task}`;
}

/** The task a host failed in, as taskLabel names it. */
export function failedTaskLabel(host: {
  failedTask?: string | undefined;
  failedInstance?: string | undefined;
}): string | undefined {
  return host.failedTask === undefined
    ? undefined
    : taskLabel({ task: host.failedTask, instance: host.failedInstance });
}
