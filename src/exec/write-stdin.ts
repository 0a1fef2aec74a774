import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * A file's first `size` bytes, read a slice at a time as each is sent, never held whole: a
 * release archive uploaded to a hundred hosts costs each host's connection a few slices of
 * memory, not the archive (whatever its size). The receiving side counts what arrived: a file
 * that became shorter ends the stream early, and the host takes that as a batch that did not
 * arrive whole.
 */
export interface FileBytes {
  readonly file: string;
  readonly size: number;
}

/** One part of a command's stdin: bytes, or bytes read from a file as they are sent. */
export type StdinPart = Buffer | FileBytes;

/** How many bytes a part sends. */
export function partSize(part: StdinPart): number {
  return Buffer.isBuffer(part) ? part.length : part.size;
}

/** What a command's stdin may be: text, bytes, or parts written in order. */
export type StdinData = string | Buffer | readonly StdinPart[];

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
 * slices: no channel queues more than a slice ahead of what it has sent (nor its `transport`
 * socket more than SOCKET_BACKLOG), and a file part is read as it is sent. Stops quietly when
 * the stream is destroyed (the command exited or the connection is gone).
 */
export async function writeStdin(
  stream: Writable,
  data: StdinData | undefined,
  transport?: TransportQueue,
): Promise<void> {
  const parts: readonly (string | StdinPart)[] =
    data === undefined ? [] : Array.isArray(data) ? data : [data as string | Buffer];
  const send = async (slice: Buffer): Promise<boolean> => {
    if (transport && transport.writableLength > SOCKET_BACKLOG) await drained(transport);
    if (stream.destroyed || stream.writableEnded) return false;
    if (!stream.write(slice)) {
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
    return true;
  };
  for (const part of parts) {
    if (typeof part === 'object' && !Buffer.isBuffer(part)) {
      if (!(await sendFile(part, send))) break;
      continue;
    }
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    let sent = true;
    for (let at = 0; at < bytes.length && sent; at += SLICE) {
      sent = await send(bytes.subarray(at, at + SLICE));
    }
    if (!sent) return;
  }
  if (!stream.destroyed && !stream.writableEnded) stream.end();
}

/**
 * Sends a file's first `size` bytes in slices, each a buffer of its own (the channel may keep a
 * slice until the peer's window opens, so none is reused). False when the stream stopped taking
 * them or the file ended early (it was changed): what follows is not sent, and the stream is
 * ended short.
 */
async function sendFile(
  part: FileBytes,
  send: (slice: Buffer) => Promise<boolean>,
): Promise<boolean> {
  let handle;
  try {
    handle = await open(part.file, 'r');
  } catch {
    return false;
  }
  try {
    for (let at = 0; at < part.size;) {
      const slice = Buffer.allocUnsafe(Math.min(SLICE, part.size - at));
      const { bytesRead } = await handle.read(slice, 0, slice.length, at);
      if (bytesRead === 0) return false;
      if (!(await send(slice.subarray(0, bytesRead)))) return false;
      at += bytesRead;
    }
    return true;
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}
