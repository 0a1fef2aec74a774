import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeStdin, type StdinData } from './write-stdin.js';

/** What a stream got from writeStdin, and whether it was ended. */
async function received(data: StdinData | undefined): Promise<Buffer> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  await writeStdin(stream, data);
  await ended;
  return Buffer.concat(chunks);
}

describe('writeStdin', () => {
  it('writes text, bytes and parts in order, then ends the stream', async () => {
    for (const [data, expected] of [
      ['text', 'text'],
      [Buffer.from('bytes'), 'bytes'],
      [[Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], 'abc'],
      [undefined, ''],
    ] as const) {
      expect((await received(data)).toString()).toBe(expected);
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

  it('sends a file part as read from the file, a slice at a time, between other parts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'write-stdin-'));
    const file = join(dir, 'release.tar');
    const bytes = Buffer.alloc(300 * 1024 + 7);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251;
    writeFileSync(file, bytes);
    const got = await received([
      Buffer.from('head\n'),
      { file, size: bytes.length },
      Buffer.from('tail'),
    ]);
    expect(got.equals(Buffer.concat([Buffer.from('head\n'), bytes, Buffer.from('tail')]))).toBe(
      true,
    );
    // Only the size asked for, even when the file is longer.
    expect((await received([{ file, size: 10 }])).equals(bytes.subarray(0, 10))).toBe(true);
  });

  it('ends the stream short when a file part became shorter or is gone: nothing after it', async () => {
    // The host counts what arrived (detach.sh): a short batch is never started.
    const dir = mkdtempSync(join(tmpdir(), 'write-stdin-'));
    const file = join(dir, 'release.tar');
    writeFileSync(file, Buffer.alloc(1000, 1));
    const short = await received([{ file, size: 5000 }, Buffer.from('after')]);
    expect(short.length).toBe(1000);
    const gone = await received([
      Buffer.from('head'),
      { file: join(dir, 'missing'), size: 10 },
      Buffer.from('after'),
    ]);
    expect(gone.toString()).toBe('head');
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
