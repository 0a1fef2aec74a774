import type { FactRequest, HostFacts } from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import type { Change, TaskName, TaskPlan } from './types.js';

/**
 * A task is two pure functions: which facts it needs, and the changes that bring the host from
 * those facts to the desired state (none when in sync: that is idempotency). No I/O here.
 */
export interface Task {
  name: TaskName;
  facts(host: HostSpec): FactRequest[];
  /**
   * `earlier` holds the plans of the tasks before this one in the same run, so a task can react
   * to what they will change (the service restarts when config.yaml changed, …).
   * Throws PlanError when the host cannot be converged.
   */
  plan(host: HostSpec, facts: HostFacts, earlier: readonly TaskPlan[]): Change[];
  /**
   * Called once every task has planned (also when this task is not selected by --tags), to
   * return the plans with anything this task must add to other tasks' plans: the service task
   * records a pending restart before the first write the gateway reads. Pure, like `plan`.
   */
  amend?(host: HostSpec, facts: HostFacts, plans: readonly TaskPlan[]): TaskPlan[];
  /**
   * The task's record of what it owns on the host (a write of a small file, or nothing when
   * the record is right), added after its own changes, and only when the task ran: a record
   * written by a run that did not make the changes would forget what is still to be removed.
   */
  record?(host: HostSpec, facts: HostFacts): Change[];
}

/**
 * What `status` asks of a host besides the tasks' facts: the systemd unit that is the service,
 * the program whose `--version` it shows, run as `user` (never as root), and where the release
 * the host is on can be read.
 */
export interface StatusProbe {
  unit: string;
  program: { path: string; user: string };
  /** A link whose target's last component names the release the host runs, when releases are used. */
  release?: { link: string };
  /** A root-owned file holding the number of the generation the host is on (read with the facts). */
  generation: string;
}
