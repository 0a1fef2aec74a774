import type { HostSpec } from '../inventory/types.js';
import type { FanOut } from './fan-out.js';
import { errorMessage, isUnreachable } from './host-errors.js';
import { exitCodeOf } from './run-fleet.js';
import type { HostSession } from './run-host.js';
import { noTraffic, type TransportStats } from './types.js';

/** One command on one host: `ok` is exit 0, `failed` anything else (a code, a signal, a loss). */
export type CommandStatus = 'ok' | 'failed' | 'unreachable' | 'skipped';

export interface CommandResult {
  host: string;
  status: CommandStatus;
  /** The command's exit code; null when it died of a signal, was cut off or never ran. */
  exitCode: number | null;
  /** `SIGINT`, … when it died of a signal. */
  signal?: string;
  /** Empty when the output was only streamed (keepOutput: false). */
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  /** Why, when the exit code does not say it: unreachable, connection lost, killed, skipped. */
  message?: string;
  stats: TransportStats;
}

export interface CommandRunResult {
  hosts: CommandResult[];
  durationMs: number;
  interrupted: boolean;
  /** As run's: 0, 2 a host failed, 4 a host unreachable (none failed), 130 interrupted. */
  exitCode: number;
}

export type OutputStream = 'stdout' | 'stderr';

/** What the runner tells the output while commands run. */
export interface CommandObserver {
  /** A chunk of a host's output, as it arrives. */
  output?(host: string, stream: OutputStream, chunk: Buffer): void;
  hostFinished?(result: CommandResult): void;
  /** Transport warnings (host key checking off, …), as RunObserver's `warning`. */
  warning?(host: string, text: string): void;
}

export interface CommandRunOptions {
  /**
   * Hosts at once, the login and Ctrl-C (onHosts): at its signal each command in flight is sent SIGINT (an
   * SSH signal) and left to end; hosts not started yet are not contacted.
   */
  fanOut: FanOut;
  /** The command line for this host, given whether its login goes through sudo. */
  commandLine: (host: HostSpec, become: boolean) => string;
  observer: CommandObserver;
  /**
   * After Ctrl-C, a command still running this much later has its connection closed. For
   * read-only commands (`logs -f`), so that a host whose sshd ignores signals cannot keep the
   * command from ending; unset, the command is waited for.
   */
  closeAfterInterruptMs?: number;
  /** False: output only streams to the observer (a follow that runs for hours). */
  keepOutput: boolean;
}

const NO_OUTPUT = Buffer.alloc(0);

/**
 * One command line on every host, concurrently up to `forks`, over the run's connections: one
 * connection and one round trip per host. A host's failure never stops the others.
 */
export async function runCommandOnHosts(
  hosts: readonly HostSpec[],
  options: CommandRunOptions,
): Promise<CommandRunResult> {
  const started = Date.now();
  const results = await options.fanOut.each(hosts, (host) => runOnHost(host, options));
  const interrupted = options.fanOut.signal.aborted;
  return {
    hosts: results,
    durationMs: Date.now() - started,
    interrupted,
    exitCode: exitCodeOf(results, interrupted, false),
  };
}

async function runOnHost(host: HostSpec, options: CommandRunOptions): Promise<CommandResult> {
  const started = Date.now();
  const interrupt = options.fanOut.signal;
  const finish = (result: Omit<CommandResult, 'host' | 'durationMs'>): CommandResult => {
    const full: CommandResult = { host: host.name, durationMs: Date.now() - started, ...result };
    options.observer.hostFinished?.(full);
    return full;
  };
  const nothing = { exitCode: null, stdout: NO_OUTPUT, stderr: NO_OUTPUT };
  // A function, not the property: Ctrl-C can come at any await below.
  const interrupted = (): boolean => interrupt.aborted;
  if (interrupted()) {
    return finish({ status: 'skipped', message: 'interrupted', ...nothing, stats: noTraffic() });
  }
  let opened: { session: HostSession; become: boolean };
  try {
    opened = await options.fanOut.open(host);
  } catch (error) {
    // Ctrl-C aborts the connects in flight: those hosts were not started, as the ones queued.
    if (interrupted()) {
      return finish({ status: 'skipped', message: 'interrupted', ...nothing, stats: noTraffic() });
    }
    return finish({
      status: isUnreachable(error) ? 'unreachable' : 'failed',
      message: errorMessage(error),
      ...nothing,
      stats: noTraffic(),
    });
  }
  const { session, become } = opened;
  for (const warning of session.warnings) options.observer.warning?.(host.name, warning);
  if (interrupted()) {
    // Logged in just after Ctrl-C: the command is not started.
    session.close();
    return finish({ status: 'skipped', message: 'interrupted', ...nothing, stats: noTraffic() });
  }
  let closer: NodeJS.Timeout | undefined;
  const closeLater = (): void => {
    closer = setTimeout(() => {
      session.close();
    }, options.closeAfterInterruptMs);
  };
  if (options.closeAfterInterruptMs !== undefined) {
    interrupt.addEventListener('abort', closeLater, { once: true });
  }
  try {
    const outcome = await session.exec(options.commandLine(host, become), {
      interrupt,
      keepOutput: options.keepOutput,
      onStdout: (chunk) => options.observer.output?.(host.name, 'stdout', chunk),
      onStderr: (chunk) => options.observer.output?.(host.name, 'stderr', chunk),
    });
    const { exitCode, signal, stdout, stderr } = outcome;
    const died = signal === undefined ? {} : { signal, message: `killed by ${signal}` };
    return finish({
      status: exitCode === 0 ? 'ok' : 'failed',
      exitCode,
      ...died,
      ...(exitCode === null && signal === undefined
        ? { message: 'ended without an exit code' }
        : {}),
      stdout,
      stderr,
      stats: { ...session.stats },
    });
  } catch (error) {
    // The command was sent: it may have run, in part or whole. That is a failure, not a host
    // that could not be reached.
    return finish({
      status: 'failed',
      message: errorMessage(error),
      ...nothing,
      stats: { ...session.stats },
    });
  } finally {
    clearTimeout(closer);
    interrupt.removeEventListener('abort', closeLater);
    session.close();
  }
}
