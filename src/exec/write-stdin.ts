import type { Writable } from 'node:stream';

/** What a command's stdin may be: text, bytes, or bytes in parts written in order. */
export type StdinData = string | Buffer | readonly Buffer[];

/** Slices small enough that a channel's buffer never holds more than a little of an upload. */
const SLICE = 64 * 1024;

/**
 * Bytes the stream's own transport still holds in memory (encrypted SSH packets queued on the
 * TCP socket), beyond what the stream itself reports.
 */
export interface TransportQueue {
  writableLength: number;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * How much an SSH connection's socket may hold before the next slice waits for it: an ssh2
 * channel hands its data to the socket as fast as the peer's window allows (2 MB with OpenSSH),
 * whatever the socket's backlog, so a hundred hosts' uploads would otherwise keep up to 2 MB
 * of encrypted copies each in this process. The kernel's send buffer keeps the link busy.
 */
const SOCKET_BACKLOG = 256 * 1024;

function drained(queue: TransportQueue): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      queue.off('drain', done);
      queue.off('close', done);
      resolve();
    };
    queue.once('drain', done);
    queue.once('close', done);
  });
}

/**
 * Writes `data` to a command's stdin and ends it, waiting for the stream to drain between
 * slices: a release archive shared by a hundred hosts' channels is sent from the one buffer,
 * in views of it, and no channel queues more than a slice ahead of what it has sent (nor its
 * `transport` socket more than SOCKET_BACKLOG). Stops quietly when the stream is destroyed (the
 * command exited or the connection is gone).
 */
export async function writeStdin(
  stream: Writable,
  data: StdinData | undefined,
  transport?: TransportQueue,
): Promise<void> {
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data as string | Buffer];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : (part as Buffer);
    for (let at = 0; at < bytes.length; at += SLICE) {
      if (transport && transport.writableLength > SOCKET_BACKLOG) await drained(transport);
      if (stream.destroyed || stream.writableEnded) return;
      if (!stream.write(bytes.subarray(at, at + SLICE))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done);
            stream.off('close', done);
            stream.off('error', done);
            resolve();
          };
          stream.on('drain', done);
          stream.on('close', done);
          stream.on('error', done);
        });
      }
    }
  }
  if (!stream.destroyed && !stream.writableEnded) stream.end();
}
