import type { StdinData } from './write-stdin.js';

/**
 * The one capability the engine needs from a transport: run a shell command line with data on
 * stdin. The SSH connection provides it; tests of the batch scripts use a local shell.
 */
export interface ExecRequest {
  /**
   * Written to the command's stdin (parts in order, with backpressure), then EOF. Without it
   * the command gets EOF at once.
   */
  stdin?: StdinData;
  /** Kill the command after this long; the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Called with stdout as it arrives (live progress of a batch). */
  onStdout?: (chunk: Buffer) => void;
  /** Called with stderr as it arrives (`exec` shows both streams in arrival order). */
  onStderr?: (chunk: Buffer) => void;
  /**
   * False: stdout and stderr only reach the callbacks, and the outcome's buffers stay empty, so a
   * command that streams for hours (`logs -f`) does not pile its output up in memory.
   */
  keepOutput?: boolean;
  /**
   * When aborted, the command is sent SIGINT (over SSH: a `signal` channel request) and left to
   * stop at its next safe point; exec resolves as usual. Ctrl-C uses it.
   */
  interrupt?: AbortSignal;
}

export interface ExecOutcome {
  /** Null when the command was killed by a signal or timed out. */
  exitCode: number | null;
  /** `SIGKILL`, … when the command died of a signal. */
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  timedOut: boolean;
}

export interface Executor {
  exec(command: string, request?: ExecRequest): Promise<ExecOutcome>;
}

/** What a connection's commands cost, as the transport counts them. */
export interface TransportStats {
  /** Commands sent whose answer was awaited (one exec = one round trip). */
  roundTrips: number;
  /** SSH channels opened on the connection. */
  channels: number;
  /** TCP connections made (1 per host, plus bastions). */
  connections: number;
}

/** The counters of a host that was never connected to. */
export function noTraffic(): TransportStats {
  return { roundTrips: 0, channels: 0, connections: 0 };
}
