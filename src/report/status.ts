import type { TransportStats } from '../exec/executor.js';
import {
  UNIT_UP_STATES,
  type FactRequest,
  type LockFact,
  type UnitFact,
  type VersionFact,
} from '../facts/types.js';
import type { HostSpec } from '../inventory/types.js';
import type { TaskName } from '../plan/types.js';
import { describeHolder, lockFact, lockRequest, midApplyMessage } from '../runner/host-lock.js';
import type { ReadAndPlanOutcome } from '../runner/read-and-plan.js';
import { statusProbe } from '../../tasks/index.js';
import { describeChange } from './change-kinds.js';
import { oneLine } from '../text.js';

/**
 * One host's answer to `status`, worst first: `unreachable` (no login), `failed` (the read or
 * the plan failed: nothing can be said about drift), `not-running` (the unit is not active),
 * `drift` (a check would change something), `ok`.
 */
export type HostHealth = 'ok' | 'drift' | 'not-running' | 'failed' | 'unreachable';

export interface ServiceState {
  loadState: string;
  activeState: string;
  subState: string;
  unitFileState: string;
  /** When the unit entered its current state (ISO 8601); null when it never did. */
  since: string | null;
}

export interface TaskDrift {
  task: TaskName;
  /** What a run would do, one line per change (never a file's content). */
  changes: string[];
}

export interface HostStatusEntry {
  host: string;
  status: HostHealth;
  reachable: boolean;
  /** Null when the host could not be read. */
  service: ServiceState | null;
  /** The release the host is on (its `current` link), when the inventory uses releases. */
  release: string | null;
  /** First line of `<package>/bin/hermes --version`; null when it could not be had. */
  version: string | null;
  /** Why there is no version (absent binary, non-zero exit, timeout). */
  versionError?: string;
  /** The generation the host is on; null when it has none (or could not be read). */
  generation: number | null;
  /** The host's lock when a run holds it (or a holder that is gone left it); null when free. */
  lock: StatusLock | null;
  /** `unknown` when the read or the plan failed. */
  config: 'in-sync' | 'drift' | 'unknown';
  /** The tasks a check would report as changed, in task order. */
  drift: TaskDrift[];
  /** Why the host is unreachable or failed, for people. */
  message?: string;
  durationMs: number;
  stats: TransportStats;
}

/**
 * A held lock: `held` (a batch is applying now) or `stale` (its holder is gone; the next run
 * takes it over). `holder` says who, as people read it; the rest as the lock file has it.
 */
export interface StatusLock {
  state: 'held' | 'stale';
  holder: string;
  who: string | null;
  command: string | null;
  pid: number | null;
  since: string | null;
}

function statusLock(fact: LockFact | undefined, nowMs: number): StatusLock | null {
  if (fact === undefined || (fact.state !== 'held' && fact.state !== 'stale')) return null;
  const h = fact.holder ?? {};
  const pid = Number(h.pid);
  return {
    state: fact.state,
    holder: describeHolder(fact.holder, nowMs),
    who: h.who ?? null,
    command: h.command ?? null,
    pid: Number.isInteger(pid) && pid > 0 ? pid : null,
    since: h.since ?? null,
  };
}

function isoFromMicros(us: number | undefined): string | null {
  return us !== undefined && us > 0 ? new Date(us / 1000).toISOString() : null;
}

export function serviceState(unit: UnitFact): ServiceState {
  // An active unit has been up since it became active; any other state since it last changed.
  const since = UNIT_UP_STATES.has(unit.activeState)
    ? unit.activeEnterTimestampUs
    : (unit.stateChangeTimestampUs ?? 0);
  return {
    loadState: unit.loadState,
    activeState: unit.activeState,
    subState: unit.subState,
    unitFileState: unit.unitFileState,
    since: isoFromMicros(since),
  };
}

/** The first non-empty line a program printed, short, with control characters shown as `\xNN`. */
function firstPrintedLine(output: string): string {
  const line = output.split('\n').find((l) => l.trim() !== '') ?? '';
  return oneLine(line.trim()).slice(0, 120);
}

export function versionOf(
  bin: string,
  fact: VersionFact | undefined,
): { version: string | null; versionError?: string } {
  if (fact === undefined) return { version: null, versionError: `${bin} --version was not read` };
  if (fact.kind === 'absent') return { version: null, versionError: `${bin} does not exist` };
  if (fact.kind === 'no-user') {
    return {
      version: null,
      versionError: `user ${fact.user} does not exist, so ${bin} --version was not run`,
    };
  }
  const line = firstPrintedLine(fact.output);
  if (fact.exitCode === 0 && line !== '') return { version: line };
  if (fact.exitCode === 124) {
    return { version: null, versionError: `${bin} --version did not answer within 5 s` };
  }
  return {
    version: null,
    versionError: `${bin} --version exited with ${fact.exitCode}${line ? `: ${line}` : ''}`,
  };
}

/**
 * A host's status from the read-and-plan outcome, the same as `run --check` computes: in sync
 * when every task plans no change; the drifted tasks are those a check reports as changed.
 */
export function statusFromRead(
  host: HostSpec,
  read: ReadAndPlanOutcome,
  stats: TransportStats,
  durationMs: number,
): HostStatusEntry {
  const probe = statusProbe(host);
  const bin = probe.program.path;
  const facts = read.facts;
  const unit = facts?.units.get(probe.unit);
  const service = unit ? serviceState(unit) : null;
  const version = facts ? versionOf(bin, facts.versions?.get(bin)) : { version: null };
  const link = probe.release ? facts?.paths.get(probe.release.link) : undefined;
  const current = facts?.paths.get(probe.generation);
  const number = current?.kind === 'file' ? (current.text ?? '').trim() : '';
  const base = {
    host: host.name,
    reachable: read.ok || read.status !== 'unreachable',
    release:
      link?.kind === 'symlink' ? (link.target.split('/').filter(Boolean).pop() ?? null) : null,
    generation: /^[1-9][0-9]*$/.test(number) ? Number(number) : null,
    lock: statusLock(facts ? lockFact(facts) : undefined, Date.now()),
  };
  const lock = facts ? lockFact(facts) : undefined;
  if (lock?.state === 'held') {
    // Mid-apply: half a state is not drift, and a service restarting is not down.
    return {
      ...base,
      status: 'failed',
      service,
      ...version,
      config: 'unknown',
      drift: [],
      message: midApplyMessage(lock.holder),
      durationMs,
      stats,
    };
  }
  if (!read.ok) {
    return {
      ...base,
      status: read.status,
      service,
      ...version,
      config: 'unknown',
      drift: [],
      message: read.failedTask ? `${read.failedTask}: ${read.message}` : read.message,
      durationMs,
      stats,
    };
  }
  const drift = read.plans
    .filter((p) => p.changes.length > 0)
    .map((p) => ({ task: p.task, changes: p.changes.map(describeChange) }));
  const running = service !== null && UNIT_UP_STATES.has(service.activeState);
  return {
    ...base,
    status: !running ? 'not-running' : drift.length > 0 ? 'drift' : 'ok',
    service,
    ...version,
    config: drift.length > 0 ? 'drift' : 'in-sync',
    drift,
    durationMs,
    stats,
  };
}

/**
 * What `status` reads on top of the tasks' facts: the version, asked of the program as the
 * service user (the package directory may be writable by it; as root that is code execution),
 * and the host's lock.
 */
export function statusFactRequests(host: HostSpec): FactRequest[] {
  const { program, release } = statusProbe(host);
  return [
    { kind: 'version', path: program.path, user: program.user },
    ...(release ? [{ kind: 'path' as const, path: release.link }] : []),
    // Never waited for: status says who holds it.
    lockRequest(0),
  ];
}

/**
 * `status`'s exit code: 2 when a host could not be read (or planned), else 4 when one was
 * unreachable, else 3 when one drifted or its service is not running, else 0.
 */
export function statusExitCode(entries: readonly HostStatusEntry[]): number {
  const any = (s: HostHealth) => entries.some((e) => e.status === s);
  if (any('failed')) return 2;
  if (any('unreachable')) return 4;
  if (any('not-running') || any('drift')) return 3;
  return 0;
}
