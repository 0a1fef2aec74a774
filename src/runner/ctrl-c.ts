import { setMaxListeners } from 'node:events';

export interface CtrlC {
  /** Aborted at the first Ctrl-C. */
  signal: AbortSignal;
  /** Stops listening (call once the hosts are done). */
  dispose(): void;
}

/**
 * Ctrl-C as every command that contacts hosts takes it: the first aborts `signal` (hosts finish
 * what is in flight and start nothing new) and prints `note` when there is one; a second exits
 * 130 at once.
 */
export function onCtrlC(note?: string): CtrlC {
  const controller = new AbortController();
  // Every host's connection and command listen on this one signal: hundreds of listeners are
  // expected, not a leak.
  setMaxListeners(0, controller.signal);
  const listener = () => {
    if (controller.signal.aborted) process.exit(130);
    if (note !== undefined) process.stderr.write(`\n${note} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', listener);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', listener);
    },
  };
}
