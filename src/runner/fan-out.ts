import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import type { HostSpec } from '../inventory/types.js';
import { onCtrlC } from './ctrl-c.js';
import { openSession } from './open-session.js';
import type { HostSession } from './run-host.js';

/** What a command's host work is handed: the one limit, the one Ctrl-C signal, the login. */
export interface FanOut {
  /** Aborted at the first Ctrl-C: hosts finish what is in flight and start nothing new. */
  readonly signal: AbortSignal;
  /**
   * `work` on every host, at most `forks` at once (one limit for every call, so rolling batches
   * share it), results in the hosts' order. A host's failure is its result: `work` must not throw.
   */
  readonly each: <R>(
    hosts: readonly HostSpec[],
    work: (host: HostSpec) => Promise<R>,
  ) => Promise<R[]>;
  /** Logs in to the host as every command does (openSession), aborted with `signal`. */
  readonly open: (host: HostSpec) => Promise<{ session: HostSession; become: boolean }>;
}

/** A fan-out on `signal` (tests give their own signal and sessions). */
export function hostFanOut(
  forks: number,
  signal: AbortSignal,
  open: FanOut['open'] = (host) => openSession(host, signal),
): FanOut {
  const limit = pLimit(Math.max(1, forks));
  return {
    signal,
    each: (hosts, work) => Promise.all(hosts.map((host) => limit(() => work(host)))),
    open,
  };
}

export interface OnHostsOptions {
  forks: number;
  /**
   * How Ctrl-C is taken. Given: the first Ctrl-C aborts `signal` and prints `note` when there is
   * one; a second exits 130 at once. Unset: Ctrl-C is left to Node and ends the process at once
   * (the read-only table commands, `status` and `generations`, which have nothing to finish).
   */
  ctrlC?: { note?: string };
}

/**
 * Many hosts at once, as every command that contacts hosts runs them (Kamal's `on(hosts)`):
 * `body` gets the fan-out, Ctrl-C is listened to while it runs and no longer once it is done.
 */
export async function onHosts<T>(
  options: OnHostsOptions,
  body: (fanOut: FanOut) => Promise<T>,
): Promise<T> {
  if (options.ctrlC === undefined) {
    // Nothing aborts it: Ctrl-C ends the process. One listener per host connection is expected.
    const signal = new AbortController().signal;
    setMaxListeners(0, signal);
    return body(hostFanOut(options.forks, signal));
  }
  const ctrlC = onCtrlC(options.ctrlC.note);
  try {
    return await body(hostFanOut(options.forks, ctrlC.signal));
  } finally {
    ctrlC.dispose();
  }
}
