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
});
