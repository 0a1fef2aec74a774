import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeStdin } from './write-stdin.js';

describe('writeStdin', () => {
  it('writes text, bytes and parts in order, then ends the stream', async () => {
    for (const [data, expected] of [
      ['text', 'text'],
      [Buffer.from('bytes'), 'bytes'],
      [[Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], 'abc'],
      [undefined, ''],
    ] as const) {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = new Promise((resolve) => stream.on('end', resolve));
      await writeStdin(stream, data);
      await ended;
      expect(Buffer.concat(chunks).toString()).toBe(expected);
    }
  });

  it('sends a large part in views of it, waiting for the stream to drain', async () => {
    const part = Buffer.alloc(1024 * 1024, 7);
    const seen: Buffer[] = [];
    let pending = 0;
    let mostPending = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, done) {
        seen.push(chunk);
        pending++;
        mostPending = Math.max(mostPending, pending);
        setImmediate(() => {
          pending--;
          done();
        });
      },
    });
    await writeStdin(slow, [part]);
    expect(Buffer.concat(seen).equals(part)).toBe(true);
    // Never more than a slice or two queued ahead: the part is not copied into the stream.
    expect(mostPending).toBeLessThanOrEqual(2);
    // Views of the shared buffer, not copies.
    expect(seen[0]?.buffer).toBe(part.buffer);
  });

  it('stops quietly when the stream is destroyed (the command exited)', async () => {
    const stream = new PassThrough({ highWaterMark: 1024 });
    const writing = writeStdin(stream, [Buffer.alloc(1024 * 1024)]);
    stream.destroy();
    await expect(writing).resolves.toBeUndefined();
  });

  it('waits while the transport socket holds more than its backlog (ssh2 does not)', async () => {
    // A channel that always takes the bytes (as ssh2's does while the window lasts) over a
    // socket whose queue grows with every write and drains only when the test says so.
    const socket = Object.assign(new EventEmitter(), { writableLength: 0 });
    const channel = new Writable({
      write(chunk: Buffer, _encoding, done) {
        socket.writableLength += chunk.length;
        done();
      },
    });
    const writing = writeStdin(channel, [Buffer.alloc(1024 * 1024, 1)], socket);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // 256 KiB is the backlog: the slice that crossed it is the last one written.
    expect(socket.writableLength).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(socket.writableLength).toBeGreaterThan(0);
    while (!channel.writableEnded) {
      socket.writableLength = 0;
      socket.emit('drain');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await writing;
    expect(channel.writableEnded).toBe(true);
  });
});
