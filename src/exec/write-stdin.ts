import type { Writable } from 'node:stream';

/** What a command's stdin may be: text, bytes, or bytes in parts written in order. */
export type StdinData = string | Buffer | readonly Buffer[];

/** Slices small enough that a channel's buffer never holds more than a little of an upload. */
const SLICE = 64 * 1024;

/**
 * Writes `data` to a command's stdin and ends it, waiting for the stream to drain between
 * slices: a release archive shared by a hundred hosts' channels is sent from the one buffer,
 * in views of it, and no channel queues more than a slice ahead of what it has sent. Stops
 * quietly when the stream is destroyed (the command exited or the connection is gone).
 */
export async function writeStdin(stream: Writable, data: StdinData | undefined): Promise<void> {
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data as string | Buffer];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : (part as Buffer);
    for (let at = 0; at < bytes.length; at += SLICE) {
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
