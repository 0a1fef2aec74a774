import { performance } from 'node:perf_hooks';
import type { ClientChannel } from 'ssh2';
import type { ExecOutcome, ExecRequest } from '../exec/executor.js';
import { AbortedError } from './ssh-errors.js';

// The steps of one command on its own channel, each small and named, as execa's terminate/*:
// the output it collects, the timeout and the abort that kill it, the interrupt it forwards and
// the close that ends it. They share one RunningCommand, which settles the command's promise
// once and undoes what each step set up (timers, listeners) when it does.

/** One command from its request to its result: its channel, output and exit, settled once. */
export class RunningCommand {
  channel: ClientChannel | undefined;
  readonly #started = performance.now();
  readonly #stdout: Buffer[] = [];
  readonly #stderr: Buffer[] = [];
  #exitCode: number | null = null;
  #exitSignal: string | undefined;
  #sawExit = false;
  #settled = false;
  readonly #onSettled: (() => void)[] = [];
  readonly #onAttached: ((channel: ClientChannel) => void)[] = [];
  readonly #resolve: (result: ExecOutcome) => void;
  readonly #reject: (error: Error) => void;

  constructor(resolve: (result: ExecOutcome) => void, reject: (error: Error) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get settled(): boolean {
    return this.#settled;
  }

  get sawExit(): boolean {
    return this.#sawExit;
  }

  /** Runs `cleanup` once the command settles, whichever way. */
  onSettled(cleanup: () => void): void {
    this.#onSettled.push(cleanup);
  }

  /** Runs `step` once the channel is open. */
  onAttached(step: (channel: ClientChannel) => void): void {
    this.#onAttached.push(step);
  }

  attach(channel: ClientChannel): void {
    this.channel = channel;
    for (const step of this.#onAttached) step(channel);
  }

  keep(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    (stream === 'stdout' ? this.#stdout : this.#stderr).push(chunk);
  }

  exited(code: number | null, signalName: string | undefined): void {
    this.#sawExit = true;
    this.#exitCode = typeof code === 'number' ? code : null;
    if (typeof signalName === 'string') this.#exitSignal = signalName;
  }

  /** Resolves with what the command gave; a timed-out command has no exit code or signal. */
  succeed(timedOut: boolean): void {
    this.#settle(() => {
      this.#resolve({
        exitCode: timedOut ? null : this.#exitCode,
        ...(this.#exitSignal !== undefined && !timedOut ? { signal: this.#exitSignal } : {}),
        stdout: Buffer.concat(this.#stdout),
        stderr: Buffer.concat(this.#stderr),
        durationMs: performance.now() - this.#started,
        timedOut,
      });
    });
  }

  fail(error: Error): void {
    this.#settle(() => {
      this.#reject(error);
    });
  }

  /** Kills the command and closes its channel, if it has one still. */
  kill(): void {
    const channel = this.channel;
    if (!channel) return;
    // Either step throws once the channel or the connection is gone: nothing left to kill.
    try {
      sendSignal(channel, 'KILL');
    } catch {
      /* already gone */
    }
    try {
      channel.close();
    } catch {
      /* already gone */
    }
  }

  #settle(finish: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const cleanup of this.#onSettled) cleanup();
    finish();
  }
}

/** `timeoutMs` after the start, the command is killed and resolves as timed out. */
export function killOnTimeout(run: RunningCommand, timeoutMs: number | undefined): void {
  if (timeoutMs === undefined) return;
  const timer = setTimeout(() => {
    run.kill();
    run.succeed(true);
  }, timeoutMs);
  run.onSettled(() => {
    clearTimeout(timer);
  });
}

/** `signal` kills the command and rejects it with an AbortedError. */
export function killOnAbort(run: RunningCommand, signal: AbortSignal | undefined): void {
  if (!signal) return;
  const onAbort = (): void => {
    run.kill();
    run.fail(new AbortedError('command aborted'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  run.onSettled(() => {
    signal.removeEventListener('abort', onAbort);
  });
}

/**
 * `interrupt` is passed on to the command as SIGINT (an SSH signal), and the command is left to
 * end; an interrupt that came while the channel was opening is sent once it is open.
 */
export function forwardInterrupt(run: RunningCommand, interrupt: AbortSignal | undefined): void {
  if (!interrupt) return;
  const onInterrupt = (): void => {
    try {
      if (run.channel) sendSignal(run.channel, 'INT');
    } catch {
      /* already gone */
    }
  };
  interrupt.addEventListener('abort', onInterrupt, { once: true });
  run.onSettled(() => {
    interrupt.removeEventListener('abort', onInterrupt);
  });
  run.onAttached(() => {
    if (interrupt.aborted) onInterrupt();
  });
}

/**
 * The channel's output: kept for the result (unless `keepOutput` is false) and passed to the
 * request's callbacks as it arrives. A throwing callback fails this command and kills it, never
 * the ssh2 parser and the connection.
 */
export function collectOutput(
  run: RunningCommand,
  channel: ClientChannel,
  request: Pick<ExecRequest, 'keepOutput' | 'onStdout' | 'onStderr'>,
): void {
  const keep = request.keepOutput !== false;
  const deliver = (
    stream: 'stdout' | 'stderr',
    chunk: Buffer,
    callback: ((chunk: Buffer) => void) | undefined,
  ): void => {
    if (keep) run.keep(stream, chunk);
    if (!callback) return;
    try {
      callback(chunk);
    } catch (callbackError) {
      run.kill();
      run.fail(callbackError instanceof Error ? callbackError : new Error(String(callbackError)));
    }
  };
  channel.on('data', (chunk: Buffer) => {
    deliver('stdout', chunk, request.onStdout);
  });
  channel.stderr.on('data', (chunk: Buffer) => {
    deliver('stderr', chunk, request.onStderr);
  });
}

/**
 * The end: the exit status, then the channel's close settles the command. A channel closed
 * without an exit status is what a dying connection looks like: the connection's close, which
 * comes next, reports it as lost (`lost` says whether it is).
 */
export function settleOnClose(
  run: RunningCommand,
  channel: ClientChannel,
  lost: () => Error | undefined,
): void {
  channel.on('exit', (code: number | null, signalName?: string) => {
    run.exited(code, signalName);
  });
  channel.on('error', () => undefined);
  channel.on('close', () => {
    if (run.sawExit) {
      run.succeed(false);
      return;
    }
    setImmediate(() => {
      const error = lost();
      if (error) run.fail(error);
      else run.succeed(false);
    });
  });
}

/** The parts of an ssh2 channel that sendSignal needs; not in ssh2's published types. */
interface ChannelInternals {
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/**
 * Sends a signal request (RFC 4254 6.9) on a command's channel. Every command here gets its
 * stdin and then EOF at once, and ssh2's own channel.signal() silently sends nothing once the
 * channel is no longer writable, which after EOF it never is, though the RFC allows requests
 * then. So this makes the very protocol call channel.signal() makes, on any channel whose
 * outgoing side is still open or only at EOF; should ssh2's inner names ever change, it falls
 * back to channel.signal().
 */
export function sendSignal(channel: ClientChannel, name: 'INT' | 'KILL'): void {
  const inner = channel as unknown as ChannelInternals;
  const state = inner.outgoing?.state;
  const protocol = inner._client?._protocol;
  if (inner.outgoing && (state === 'open' || state === 'eof') && protocol?.signal) {
    protocol.signal(inner.outgoing.id, name);
  } else {
    channel.signal(name);
  }
}
