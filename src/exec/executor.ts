/**
 * The one capability the engine needs from a transport: run a shell command line with data on
 * stdin. The SSH connection provides it; tests of the batch scripts use a local shell.
 */
export interface ExecRequest {
  stdin?: string | Buffer;
  timeoutMs?: number;
  /** Called with stdout as it arrives (live progress of a batch). */
  onStdout?: (chunk: Buffer) => void;
  /** When aborted, the command is sent SIGINT and left to stop at its next safe point. */
  interrupt?: AbortSignal;
}

export interface ExecOutcome {
  exitCode: number | null;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  timedOut: boolean;
}

export interface Executor {
  exec(command: string, request?: ExecRequest): Promise<ExecOutcome>;
}
