import type { LineFormat } from './host-lines.js';
import type { CommandResult, CommandRunResult, CommandStatus } from '../runner/run-command.js';

/**
 * `exec --json` and `logs --json`: one document on stdout once every host is done. Output is
 * decoded as UTF-8 (bytes that are not UTF-8 become U+FFFD); the human output shows raw bytes.
 */
export interface CommandReport {
  version: 1;
  command: 'exec' | 'logs';
  startedAt: string;
  durationMs: number;
  /** The process exit code: 0, 2, 4 or 130, as run's. */
  exitCode: number;
  interrupted: boolean;
  hosts: CommandReportHost[];
}

export interface CommandReportHost {
  host: string;
  status: CommandStatus;
  /** null: it died of a signal, was cut off, or never ran. */
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  message?: string;
  stats: { roundTrips: number; channels: number; connections: number };
}

export function toCommandReport(
  result: CommandRunResult,
  command: CommandReport['command'],
  startedAt: Date,
): CommandReport {
  return {
    version: 1,
    command,
    startedAt: startedAt.toISOString(),
    durationMs: result.durationMs,
    exitCode: result.exitCode,
    interrupted: result.interrupted,
    hosts: result.hosts.map(reportHost),
  };
}

function reportHost(host: CommandResult): CommandReportHost {
  return {
    host: host.host,
    status: host.status,
    exitCode: host.exitCode,
    ...(host.signal !== undefined ? { signal: host.signal } : {}),
    stdout: host.stdout.toString('utf8'),
    stderr: host.stderr.toString('utf8'),
    durationMs: host.durationMs,
    ...(host.message !== undefined ? { message: host.message } : {}),
    stats: {
      roundTrips: host.stats.roundTrips,
      channels: host.stats.channels,
      connections: host.stats.connections,
    },
  };
}

/**
 * `logs -f --json` never ends in a document: one JSON line per log line as it arrives,
 * `{"host","stream","line"}`.
 */
export const jsonLogLine: LineFormat = (host, stream, line) => {
  return `${JSON.stringify({ host, stream, line: line.toString('utf8') })}\n`;
};

/** ...and one when a host's follow ends: `{"host","ended":{status,exitCode,message}}`. */
export function jsonEndLine(host: CommandResult): string {
  const { status, exitCode, message } = host;
  return `${JSON.stringify({ host: host.host, ended: { status, exitCode, ...(message !== undefined ? { message } : {}) } })}\n`;
}
