import type { HostStatusEntry } from './status.js';
import { indentContinuation, oneLine, palette } from '../text.js';

/** `status --json`: one document. Built field by field from the entries, which hold no secret. */
export interface StatusReport {
  version: 1;
  command: 'status';
  checkedAt: string;
  durationMs: number;
  exitCode: number;
  hosts: HostStatusEntry[];
}

export function toStatusReport(
  entries: readonly HostStatusEntry[],
  options: { checkedAt: Date; durationMs: number; exitCode: number },
): StatusReport {
  return {
    version: 1,
    command: 'status',
    checkedAt: options.checkedAt.toISOString(),
    durationMs: options.durationMs,
    exitCode: options.exitCode,
    hosts: entries.map((e) => ({
      host: e.host,
      status: e.status,
      reachable: e.reachable,
      release: e.release,
      service: e.service ? { ...e.service } : null,
      version: e.version,
      ...(e.versionError !== undefined ? { versionError: e.versionError } : {}),
      generation: e.generation,
      lock: e.lock ? { ...e.lock } : null,
      config: e.config,
      drift: e.drift.map((d) => ({ task: d.task, changes: [...d.changes] })),
      ...(e.message !== undefined ? { message: e.message } : {}),
      durationMs: e.durationMs,
      stats: {
        roundTrips: e.stats.roundTrips,
        channels: e.stats.channels,
        connections: e.stats.connections,
      },
    })),
  };
}

/** `3m ago`: how long ago, in the largest whole unit. */
export function ago(sinceMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - sinceMs) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

function sinceText(iso: string | null, now: Date): string {
  if (iso === null) return '-';
  const at = new Date(iso);
  return `${iso.slice(0, 19).replace('T', ' ')}Z (${ago(at.getTime(), now.getTime())})`;
}

function serviceText(e: HostStatusEntry): string {
  if (!e.service) return '-';
  if (e.service.loadState === 'not-found') return 'not installed';
  return `${e.service.activeState} (${e.service.subState})`;
}

function configText(e: HostStatusEntry): string {
  if (e.config === 'unknown') return 'unknown';
  if (e.config === 'in-sync') return 'in sync';
  return `drift: ${e.drift.map((d) => d.task).join(', ')}`;
}

const ALL_HEADERS = [
  'HOST',
  'REACHABLE',
  'SERVICE',
  'SINCE',
  'RELEASE',
  'VERSION',
  'GEN',
  'LOCK',
  'CONFIG',
];

function lockText(e: HostStatusEntry): string {
  if (e.lock === null) return '-';
  const who = `${e.lock.who ?? '?'}${e.lock.command !== null ? ` ${e.lock.command.replace(/^hermes-fleet /, '')}` : ''}`;
  return e.lock.state === 'stale' ? `stale (${who}, gone)` : who;
}

/**
 * The status table (RELEASE only when some host uses releases, LOCK only when some host is
 * locked), one row per host in the given order, then one line per host with a problem
 * (why it is unreachable or failed, why it has no version). Plain text unless `color`.
 */
export function formatStatusTable(
  entries: readonly HostStatusEntry[],
  options: { color: boolean; now: Date },
): string {
  const c = palette(options.color);
  // RELEASE only when some host is deployed from release archives.
  const withRelease = entries.some((e) => e.release !== null);
  // LOCK only when some host's lock is held (or was left by a holder that is gone).
  const withLock = entries.some((e) => e.lock !== null);
  const HEADERS = ALL_HEADERS.filter(
    (h) => (h !== 'RELEASE' || withRelease) && (h !== 'LOCK' || withLock),
  );
  const rows = entries.map((e) => [
    oneLine(e.host),
    e.reachable ? 'yes' : 'no',
    serviceText(e),
    sinceText(e.service?.since ?? null, options.now),
    ...(withRelease ? [e.release ?? '-'] : []),
    oneLine(e.version ?? '-'),
    e.generation === null ? '-' : String(e.generation),
    ...(withLock ? [lockText(e)] : []),
    configText(e),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ');
  const out = [c.bold(line(HEADERS))];
  entries.forEach((e, i) => {
    const text = line(rows[i] ?? []);
    const paint =
      e.status === 'ok'
        ? c.green
        : e.status === 'drift' || e.status === 'not-running'
          ? c.yellow
          : c.red;
    out.push(paint(text));
  });
  const notes: string[] = [];
  for (const e of entries) {
    if (e.message !== undefined) {
      const what = e.status === 'unreachable' ? 'unreachable' : 'failed';
      notes.push(c.red(`${oneLine(e.host)}: ${what}: ${indentContinuation(e.message, '    ')}`));
    }
    if (e.lock !== null) {
      const what = e.lock.state === 'held' ? 'locked by' : 'stale lock of';
      notes.push(c.yellow(`${oneLine(e.host)}: ${what} ${oneLine(e.lock.holder)}`));
    }
    if (e.versionError !== undefined) {
      notes.push(c.yellow(`${oneLine(e.host)}: no version: ${oneLine(e.versionError)}`));
    }
  }
  if (notes.length > 0) out.push('', ...notes);
  return `${out.join('\n')}\n`;
}
