import type { Client } from 'ssh2';
import type { OpenedClient } from './ssh-client.js';
import { AbortedError } from './ssh-errors.js';

/** A logged-in bastion connection shared by every target behind it. */
export interface PooledHop {
  readonly key: string;
  readonly client: Client;
  readonly warnings: readonly string[];
}

interface Entry {
  key: string;
  opening: Promise<OpenedClient>;
  refs: number;
  closed: boolean;
}

// One connection per distinct bastion chain, so a hundred hosts behind one bastion cost the
// bastion one login and one TCP connection instead of a hundred.
const pool = new Map<string, Entry>();

function forget(entry: Entry): void {
  entry.closed = true;
  if (pool.get(entry.key) === entry) pool.delete(entry.key);
}

function endWhenOpen(entry: Entry): void {
  entry.opening.then(
    (opened) => opened.client.end(),
    () => undefined,
  );
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(new AbortedError('connect aborted'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export interface Acquired {
  hop: PooledHop;
  /** This caller made the physical connection (it counts it in its stats). */
  created: boolean;
  release(): void;
}

/**
 * Takes a reference to the bastion connection for `key`, opening it with `open` when there is
 * none (or the last one died). The connection ends when the last reference is released.
 */
export async function acquireHop(
  key: string,
  open: () => Promise<OpenedClient>,
  signal?: AbortSignal,
): Promise<Acquired> {
  let entry = pool.get(key);
  let created = false;
  if (!entry || entry.closed) {
    created = true;
    const fresh: Entry = { key, opening: open(), refs: 0, closed: false };
    entry = fresh;
    pool.set(key, fresh);
    fresh.opening.then(
      (opened) => {
        opened.client.on('close', () => {
          forget(fresh);
        });
        // Everyone who wanted it gave up while it was opening.
        if (fresh.refs === 0) {
          forget(fresh);
          opened.client.end();
        }
      },
      () => {
        forget(fresh);
      },
    );
  }
  const held = entry;
  held.refs += 1;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    held.refs -= 1;
    if (held.refs === 0) {
      forget(held);
      endWhenOpen(held);
    }
  };
  try {
    const opened = await raceAbort(held.opening, signal);
    return { hop: { key, client: opened.client, warnings: opened.warnings }, created, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** How many bastion connections are open or opening (for tests and diagnostics). */
export function pooledHopCount(): number {
  return pool.size;
}
