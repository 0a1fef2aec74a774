import type { OutputStream } from '../runner/run-command.js';
import { oneLine, printable } from '../text.js';

/** Anything that takes bytes or text, e.g. process.stdout. */
export interface ByteSink {
  write(data: string | Buffer): unknown;
}

const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into whole lines as they complete, keeping the unfinished tail for the next
 * chunk. Works on bytes, so a character split across two chunks is never torn apart.
 */
export class LineBuffer {
  #tail: Buffer = Buffer.alloc(0);

  /** The lines this chunk completes, without their newline. */
  push(chunk: Buffer): Buffer[] {
    const data = this.#tail.length > 0 ? Buffer.concat([this.#tail, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, start)) {
      lines.push(data.subarray(start, end));
      start = end + 1;
    }
    // A copy: the tail must not pin the whole chunk it came from.
    this.#tail = Buffer.from(data.subarray(start));
    return lines;
  }

  /** The last line when the stream ended without a newline. */
  flush(): Buffer | undefined {
    const tail = this.#tail;
    this.#tail = Buffer.alloc(0);
    return tail.length > 0 ? tail : undefined;
  }
}

/** `[web1] ` before a line of stdout, `[web1] ! ` before a line of stderr. */
export function linePrefix(host: string, stream: OutputStream): string {
  return stream === 'stderr' ? `[${oneLine(host)}] ! ` : `[${oneLine(host)}] `;
}

/** Turns one line of a host's output (without its newline) into what is printed for it. */
export type LineFormat = (host: string, stream: OutputStream, line: Buffer) => Buffer | string;

/** The line's bytes as they are: exec is the one place where the person asked for raw output. */
export const rawLine: LineFormat = (host, stream, line) =>
  Buffer.concat([Buffer.from(linePrefix(host, stream), 'utf8'), line, Buffer.from('\n')]);

/** Control characters escaped: a service's log must not drive the terminal (logs). */
export const printableLine: LineFormat = (host, stream, line) =>
  `${linePrefix(host, stream)}${printable(line.toString('utf8'))}\n`;

export interface LinePrinterOptions {
  format: LineFormat;
  /** Hold each host's lines and print them as one block when the host is done. */
  group: boolean;
}

export interface LinePrinter {
  output: (host: string, stream: OutputStream, chunk: Buffer) => void;
  /** The host's command ended: its unfinished lines are printed, and with `group` its block. */
  hostDone: (host: string) => void;
}

/**
 * Hosts' output as lines prefixed by the host, on one sink. Lines of different hosts interleave
 * in the order they complete (never inside a line); with `group`, a host's lines stay together.
 * stdout and stderr go to the same sink, so their order is the order they arrived in.
 */
export function createLinePrinter(out: ByteSink, options: LinePrinterOptions): LinePrinter {
  const buffers = new Map<string, LineBuffer>();
  const held = new Map<string, Buffer[]>();
  const bufferOf = (host: string, stream: OutputStream): LineBuffer => {
    const key = `${stream}\n${host}`;
    let buffer = buffers.get(key);
    if (!buffer) {
      buffer = new LineBuffer();
      buffers.set(key, buffer);
    }
    return buffer;
  };
  const render = (host: string, stream: OutputStream, line: Buffer): Buffer => {
    const shown = options.format(host, stream, line);
    return typeof shown === 'string' ? Buffer.from(shown, 'utf8') : shown;
  };
  const emit = (host: string, lines: Buffer[]): void => {
    if (lines.length === 0) return;
    if (options.group) {
      const block = held.get(host) ?? [];
      block.push(...lines);
      held.set(host, block);
    } else {
      out.write(Buffer.concat(lines));
    }
  };
  return {
    output(host, stream, chunk) {
      emit(
        host,
        bufferOf(host, stream)
          .push(chunk)
          .map((line) => render(host, stream, line)),
      );
    },
    hostDone(host) {
      for (const stream of ['stdout', 'stderr'] as const) {
        const tail = bufferOf(host, stream).flush();
        if (tail) emit(host, [render(host, stream, tail)]);
        buffers.delete(`${stream}\n${host}`);
      }
      const block = held.get(host);
      held.delete(host);
      if (block) out.write(Buffer.concat(block));
    },
  };
}
