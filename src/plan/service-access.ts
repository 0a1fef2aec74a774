/**
 * What the day-2 commands (`exec --as service`, `logs`, `restart`) need to know of the service a
 * host runs, answered by the task registry from the inventory alone: the engine knows no unit,
 * account or container by name.
 */
export interface ServiceAccess {
  /** The systemd unit that is the service. */
  unit: string;
  /** Where its output is kept: the unit's journal, or a container runtime's log. */
  log: ServiceLog;
  /** The account it runs as, in which directory and with which environment. */
  account: ServiceAccount;
}

export type ServiceLog =
  { kind: 'journal'; unit: string } | { kind: 'container'; backend: string; name: string };

export interface ServiceAccount {
  user: string;
  cwd: string;
  env: readonly (readonly [string, string])[];
}
