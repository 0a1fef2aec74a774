import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

// Besides one socket per host in flight, a run holds Node's own descriptors (about 20 at
// start), up to 8 `ssh -G` children with 3 pipes each while ~/.ssh/config is resolved, and a few
// files being read (known_hosts, keys): this many on top of what is open when the run starts.
const HEADROOM = 16;
const NODE_BASELINE = 20;

/** The soft limit from /proc/<pid>/limits text; undefined when unlimited or not found. */
export function parseProcLimits(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/**
 * The soft RLIMIT_NOFILE of this process (what `ulimit -n` shows); undefined when unlimited or
 * unknown. Linux answers from /proc without a process; elsewhere a shell is asked once (a child
 * inherits the limit unchanged).
 */
export function softOpenFileLimit(): number | undefined {
  try {
    return parseProcLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    // not Linux
  }
  const shell = spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5000 });
  const out = typeof shell.stdout === 'string' ? shell.stdout.trim() : '';
  return /^\d+$/.test(out) ? Number(out) : undefined;
}

function openDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return NODE_BASELINE;
  }
}

export interface ForksDecision {
  forks: number;
  /** Set when the forks were lowered to fit the limit. */
  warning?: string;
}

/**
 * How many hosts may run at once under an open-file limit: forks beyond what the limit leaves
 * after `reserved` are dropped with a warning (a smaller --forks only makes the run slower,
 * while running out of descriptors would fail hosts as unreachable half-way). Only the hosts
 * that will really run at once count, so the default --forks 50 never warns on a small fleet.
 */
export function fitForks(
  forks: number,
  hosts: number,
  limit: number | undefined,
  reserved: number,
): ForksDecision {
  const concurrent = Math.min(forks, Math.max(1, hosts));
  if (limit === undefined || concurrent + reserved <= limit) return { forks };
  const allowed = limit - reserved;
  if (allowed < 1) {
    throw new UserError(
      `the open-file limit (ulimit -n) is ${limit}, too low to connect to even one host: ` +
        `hermes-fleet needs about ${reserved} descriptors for itself plus one per host in parallel`,
      undefined,
      `raise it, e.g. \`ulimit -n ${reserved + concurrent + 64}\`, and run again`,
    );
  }
  return {
    forks: allowed,
    warning:
      `warning: --forks ${forks} would keep ${concurrent} connections open at once, but the ` +
      `open-file limit (ulimit -n) is ${limit} and hermes-fleet needs about ${reserved} for ` +
      `itself: running ${allowed} hosts in parallel instead. Raise the limit ` +
      `(\`ulimit -n ${reserved + concurrent + 64}\`) to run ${concurrent} at once.`,
  };
}

/** fitForks for this process: its soft limit and the descriptors it holds now. */
export function forksForThisProcess(forks: number, hosts: number): ForksDecision {
  return fitForks(forks, hosts, softOpenFileLimit(), openDescriptors() + HEADROOM);
}
