import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Client, ClientChannel } from 'ssh2';
import { acquireHop, type Acquired } from './bastion-pool.js';
import {
  endpointLabel,
  KEEPALIVE_COUNT_MAX,
  KEEPALIVE_INTERVAL_MS,
  openClient,
  type HopSettings,
} from './ssh-client.js';
import {
  collectOutput,
  forwardInterrupt,
  killOnAbort,
  killOnTimeout,
  RunningCommand,
  settleOnClose,
} from './command-steps.js';
import { AbortedError, ConnectionLostError, UnreachableError } from './ssh-errors.js';
import type { SshEndpoint, SshTarget } from './ssh-target.js';
import type { ExecOutcome, ExecRequest, TransportStats } from '../exec/executor.js';
import { writeStdin, type TransportQueue } from '../exec/write-stdin.js';

export type { UnreachableReason } from './ssh-errors.js';
export { sendSignal } from './command-steps.js';

/**
 * What exec takes: the engine's ExecRequest (stdin, timeout, streaming output, interrupt) plus
 * `signal`, which kills the command and rejects with an AbortError.
 */
export interface ExecOptions extends ExecRequest {
  signal?: AbortSignal;
}

/** One command's result; `exitCode` is null when it was killed or timed out. */
export type ExecResult = ExecOutcome;

export interface Connection {
  readonly target: SshTarget;
  /**
   * Runs one command (a shell command line: build it with commandLine/quote) on its own channel.
   * Rejects with ConnectionLostError when the connection drops meanwhile.
   */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  readonly stats: TransportStats;
  /** Things to tell the person (host key checking off, ignored ssh config), never secrets. */
  readonly warnings: string[];
  /** Ends the connection (and the bastion connection when no one else uses it). Idempotent. */
  close(): void;
}

// OpenSSH's sshd allows 10 sessions per connection (MaxSessions); stay below it so the bastion
// forwarding and a closing channel never push a busy connection over the limit.
const MAX_CHANNELS = 8;
const RETRY_DELAYS_MS = [250, 1000];
const DEFAULT_RETRIES = 2;
// After we close our side, the bastion connection waits this long for the target to say goodbye.
const HOP_RELEASE_GRACE_MS = 2000;

class SshConnection implements Connection {
  readonly target: SshTarget;
  readonly stats: TransportStats;
  readonly warnings: string[];
  readonly #client: Client;
  readonly #hops: Acquired[];
  readonly #limit: LimitFunction = pLimit(MAX_CHANNELS);
  readonly #inFlight = new Set<(error: Error) => void>();
  #closed = false;
  #lost: ConnectionLostError | undefined;
  #lastError: Error | undefined;

  constructor(
    target: SshTarget,
    client: Client,
    hops: Acquired[],
    stats: TransportStats,
    warnings: string[],
  ) {
    this.target = target;
    this.#client = client;
    this.#hops = hops;
    this.stats = stats;
    this.warnings = warnings;
    client.on('error', (error: Error) => {
      this.#lastError = error;
    });
    client.on('close', () => {
      if (!this.#closed) {
        this.#lost = new ConnectionLostError(
          `${this.#label()}: connection lost: ${lostReason(this.#lastError)}`,
          { cause: this.#lastError },
        );
        this.#failInFlight(this.#lost);
      }
      this.#releaseHops();
    });
  }

  #label(): string {
    return endpointLabel(this.target);
  }

  #failInFlight(error: Error): void {
    for (const fail of [...this.#inFlight]) fail(error);
  }

  #releaseHops(): void {
    for (const hop of [...this.#hops].reverse()) hop.release();
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.stats.roundTrips += 1;
    return this.#limit(() => this.#run(command, options));
  }

  #unusable(): Error | undefined {
    if (this.#lost) return this.#lost;
    if (this.#closed) return new ConnectionLostError(`${this.#label()}: connection already closed`);
    return undefined;
  }

  #run(command: string, options: ExecOptions): Promise<ExecResult> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    if (options.signal?.aborted) return Promise.reject(new AbortedError('command aborted'));

    return new Promise<ExecResult>((resolve, reject) => {
      const run = new RunningCommand(resolve, reject);
      const onLost = (error: Error): void => {
        run.fail(error);
      };
      this.#inFlight.add(onLost);
      run.onSettled(() => this.#inFlight.delete(onLost));
      killOnAbort(run, options.signal);
      forwardInterrupt(run, options.interrupt);
      killOnTimeout(run, options.timeoutMs);
      this.#openChannel(command, run, options);
    });
  }

  /** Opens the command's channel, then its output, its end and its stdin. */
  #openChannel(command: string, run: RunningCommand, options: ExecOptions): void {
    const cannotOpen = (error: Error, what: string): void => {
      run.fail(
        this.#unusable() ?? new ConnectionLostError(`${this.#label()}: ${what}`, { cause: error }),
      );
    };
    const opened = (error: Error | undefined, channel: ClientChannel): void => {
      if (error) {
        cannotOpen(error, `cannot open a channel: ${error.message}`);
        return;
      }
      if (run.settled) {
        // Timed out or aborted while the channel was being opened.
        channel.close();
        return;
      }
      this.stats.channels += 1;
      run.attach(channel);
      collectOutput(run, channel, options);
      settleOnClose(run, channel, () => this.#unusable());
      void writeStdin(channel, options.stdin, socketOf(this.#client));
    };
    try {
      this.#client.exec(command, opened);
    } catch (error) {
      cannotOpen(error as Error, (error as Error).message);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failInFlight(
      new ConnectionLostError(`${this.#label()}: connection closed while a command ran`),
    );
    this.#client.end();
    // If the target never answers the goodbye, the bastion still gets released.
    setTimeout(() => {
      this.#releaseHops();
    }, HOP_RELEASE_GRACE_MS).unref();
  }
}

/** Why a logged-in connection went away, in the person's terms. */
export function lostReason(error: (Error & { code?: unknown }) | undefined): string {
  if (error === undefined) {
    return 'the host closed the connection (sshd stopped, or the host shut down or rebooted)';
  }
  if (/keepalive timeout/i.test(error.message)) {
    const seconds = (KEEPALIVE_INTERVAL_MS * (KEEPALIVE_COUNT_MAX + 1)) / 1000;
    return `no answer to ${KEEPALIVE_COUNT_MAX} keepalives in ${seconds} s (the host is down or the network between is)`;
  }
  if (error.code === 'ECONNRESET') return 'connection reset by the host';
  return error.message;
}

function hopSettings(target: SshTarget): HopSettings {
  return {
    knownHosts: target.knownHosts,
    hostKeyPolicy: target.hostKeyPolicy,
    connectTimeout: target.connectTimeout,
    ...(target.passphraseEnv !== undefined ? { passphraseEnv: target.passphraseEnv } : {}),
  };
}

function forwardFailure(error: Error & { reason?: unknown }, label: string): UnreachableError {
  const text = error.message.replace(/^\(SSH\) /, '');
  if (/refused/i.test(text))
    return new UnreachableError('refused', `${label}: connection refused (via bastion)`, {
      cause: error,
    });
  if (/resolve|not known|getaddrinfo|name/i.test(text)) {
    return new UnreachableError(
      'dns',
      `${label}: the bastion cannot resolve the host name (${text})`,
      { cause: error },
    );
  }
  if (/timed out/i.test(text))
    return new UnreachableError('timeout', `${label}: connection timed out (via bastion)`, {
      cause: error,
    });
  if (error.reason === 1 || /prohibited/i.test(text)) {
    return new UnreachableError(
      'other',
      `${label}: the bastion refuses to forward connections (${text}; AllowTcpForwarding on the bastion?)`,
      { cause: error },
    );
  }
  return new UnreachableError('other', `${label}: the bastion could not connect (${text})`, {
    cause: error,
  });
}

/** Asks a bastion to open a TCP connection to the next hop, within the connect timeout. */
function forwardThrough(
  via: Client,
  to: SshEndpoint,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<Duplex> {
  const label = endpointLabel(to);
  return new Promise<Duplex>((resolve, reject) => {
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const timer = setTimeout(() => {
      if (finish())
        reject(
          new UnreachableError(
            'timeout',
            `${label}: connection timed out (via bastion, ${timeoutSeconds}s)`,
          ),
        );
    }, timeoutSeconds * 1000);
    const onAbort = (): void => {
      if (finish()) reject(new AbortedError('connect aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      via.forwardOut('127.0.0.1', 0, to.host, to.port, (error, stream) => {
        if (!finish()) {
          // It opened after we gave up on it.
          if (!error) stream.destroy();
          return;
        }
        if (error) reject(forwardFailure(error, label));
        else resolve(stream);
      });
    } catch (error) {
      if (finish())
        reject(
          new UnreachableError(
            'lost',
            `${label}: the bastion connection is gone (${(error as Error).message})`,
          ),
        );
    }
  });
}

/**
 * Bastion connections are shared per chain of `user@host:port`. The host key policy and file are
 * part of the key so a host configured with checking off never lends an unchecked bastion to a
 * host configured strict; in the usual fleet they are the same and there is one connection.
 */
function hopKey(hops: readonly SshEndpoint[], target: SshTarget): string {
  return `${hops.map(endpointLabel).join(' > ')} (${target.hostKeyPolicy} ${target.knownHosts})`;
}

async function connectOnce(
  target: SshTarget,
  stats: TransportStats,
  signal?: AbortSignal,
): Promise<Connection> {
  const settings = hopSettings(target);
  const acquired: Acquired[] = [];
  const warnings = [...target.warnings];
  try {
    let via: Client | undefined;
    for (const [index, hop] of target.jump.entries()) {
      const previous = via;
      const open = async () => {
        const sock = previous
          ? await forwardThrough(previous, hop, target.connectTimeout)
          : undefined;
        return openClient(hop, settings, { role: 'bastion', ...(sock ? { sock } : {}) });
      };
      const taken = await acquireHop(hopKey(target.jump.slice(0, index + 1), target), open, signal);
      acquired.push(taken);
      if (taken.created) stats.connections += 1;
      warnings.push(...taken.hop.warnings);
      via = taken.hop.client;
    }
    const sock = via ? await forwardThrough(via, target, target.connectTimeout, signal) : undefined;
    const opened = await openClient(target, settings, {
      ...(sock ? { sock } : {}),
      ...(signal ? { signal } : {}),
    });
    stats.connections += 1;
    warnings.push(...opened.warnings);
    return new SshConnection(target, opened.client, acquired, stats, warnings);
  } catch (error) {
    for (const taken of acquired.reverse()) taken.release();
    throw error;
  }
}

/**
 * Connects and logs in to a target, through its bastions. Refused connections and timeouts are
 * retried (`retries`, default 2, after 250 ms and 1 s); authentication and host key failures
 * are not. Rejects with UnreachableError (or AbortError when `signal` fires).
 */
export async function connect(
  target: SshTarget,
  options: { signal?: AbortSignal; retries?: number } = {},
): Promise<Connection> {
  const stats: TransportStats = { roundTrips: 0, channels: 0, connections: 0 };
  const retries = options.retries ?? DEFAULT_RETRIES;
  const started = performance.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await connectOnce(target, stats, options.signal);
    } catch (error) {
      const retryable = error instanceof UnreachableError && error.retryable;
      if (!retryable || attempt >= retries) {
        if (!retryable || attempt === 0) throw error;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        throw new UnreachableError(
          error.reason,
          `${error.message} (gave up after ${attempt + 1} attempts in ${seconds} s)`,
          { cause: error },
        );
      }
      const delay = RETRY_DELAYS_MS[attempt] ?? RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1] ?? 1000;
      try {
        await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throw new AbortedError('connect aborted');
      }
    }
  }
}

/**
 * The TCP socket (or the bastion's forwarded channel) under an ssh2 client, for the upload's
 * backpressure (writeStdin): ssh2 does not wait for its socket, and does not expose it but as
 * `_sock`. Undefined when that ever changes: the upload then runs as before, only with more
 * memory held.
 */
function socketOf(client: Client): TransportQueue | undefined {
  const sock = (client as unknown as { _sock?: Partial<TransportQueue> })._sock;
  return typeof sock?.writableLength === 'number' &&
    typeof sock.once === 'function' &&
    typeof sock.off === 'function'
    ? (sock as TransportQueue)
    : undefined;
}
