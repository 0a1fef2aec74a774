import type { HostSpec } from '../inventory/types.js';
import type { Task } from '../plan/task.js';
import type { FanOut } from './fan-out.js';
import { runHost, skippedTasks, type HostRunOptions } from './run-host.js';
import { noTraffic, type HostResult, type RunResult } from './types.js';

export interface FleetRunOptions extends Omit<HostRunOptions, 'signal' | 'open'> {
  /** Hosts at once, Ctrl-C and the login (onHosts). */
  fanOut: FanOut;
  /** Rolling deploy: batch sizes as given (`N` or `N%` of the selected hosts). */
  serial?: string;
  /** Stop starting batches once more than this % of the hosts so far failed. */
  maxFailPercentage?: number;
  detailedExitcode: boolean;
}

/** Splits hosts into rolling batches: `--serial 2` → [2, 2, …]; `--serial 30%` → ceil(30% of n). */
export function batchesOf<T>(hosts: readonly T[], serial: string | undefined): T[][] {
  if (!serial) return hosts.length > 0 ? [[...hosts]] : [];
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(serial);
  const size = percent
    ? Math.max(1, Math.ceil((Number(percent[1]) / 100) * hosts.length))
    : Math.max(1, Number(serial));
  const batches: T[][] = [];
  for (let i = 0; i < hosts.length; i += size) batches.push(hosts.slice(i, i + size));
  return batches;
}

/** The exit codes (README, "Exit codes"), from the results. */
export function exitCodeOf(
  hosts: readonly Pick<HostResult, 'status'>[],
  interrupted: boolean,
  detailedExitcode: boolean,
): number {
  if (interrupted) return 130;
  if (hosts.some((h) => h.status === 'failed')) return 2;
  if (hosts.some((h) => h.status === 'unreachable')) return 4;
  if (hosts.some((h) => h.status === 'skipped')) return 2;
  if (detailedExitcode && hosts.some((h) => h.status === 'changed')) return 3;
  return 0;
}

/**
 * Every selected host, concurrently up to `forks`, in rolling batches when `serial` is given.
 * A host's failure never stops the others in its batch; it can stop later batches.
 */
export async function runFleet(
  hosts: readonly HostSpec[],
  tasks: readonly Task[],
  options: FleetRunOptions,
): Promise<RunResult> {
  const started = Date.now();
  const { fanOut, ...hostOptions } = options;
  const signal = fanOut.signal;
  const results: HostResult[] = [];
  const batches = batchesOf(hosts, options.serial);
  let stoppedBy: string | undefined;
  for (const batch of batches) {
    if (stoppedBy !== undefined || signal.aborted) {
      for (const host of batch) {
        const why = stoppedBy ?? 'interrupted';
        // Every task listed as skipped, so the recap counts them as Ansible would.
        const skipped: HostResult = {
          host: host.name,
          status: 'skipped',
          tasks: skippedTasks(tasks, why),
          message: why,
          durationMs: 0,
          stats: noTraffic(),
        };
        options.observer.hostFinished?.(skipped);
        results.push(skipped);
      }
      continue;
    }
    const batchResults = await fanOut.each(batch, (host) =>
      runHost(host, tasks, { ...hostOptions, signal, open: fanOut.open, runStartedAt: started }),
    );
    results.push(...batchResults);
    if (options.serial !== undefined) {
      const failed = results.filter((r) => r.status === 'failed' || r.status === 'unreachable');
      const percent = (failed.length / results.length) * 100;
      const allowed = options.maxFailPercentage;
      if (allowed === undefined ? failed.length > 0 : percent > allowed) {
        stoppedBy = `not started: the rollout stopped after ${failed.length} of ${results.length} hosts failed`;
      }
    }
  }
  const interrupted = signal.aborted;
  return {
    mode: options.check ? 'check' : 'run',
    hosts: results,
    durationMs: Date.now() - started,
    interrupted,
    exitCode: exitCodeOf(results, interrupted, options.detailedExitcode),
  };
}
