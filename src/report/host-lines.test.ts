import { describe, expect, it } from 'vitest';
import { LineBuffer, createLinePrinter, linePrefix, printableLine, rawLine } from './host-lines.js';

function sink() {
  const writes: Buffer[] = [];
  return {
    writes,
    write: (data: string | Buffer) => writes.push(Buffer.from(data)),
    text: () => Buffer.concat(writes).toString('utf8'),
  };
}

describe('LineBuffer', () => {
  it('gives whole lines as they complete, keeping the unfinished tail', () => {
    const lines = new LineBuffer();
    expect(lines.push(Buffer.from('one\ntw')).map(String)).toEqual(['one']);
    expect(lines.push(Buffer.from('o\n\nthr')).map(String)).toEqual(['two', '']);
    expect(lines.flush()?.toString()).toBe('thr');
    expect(lines.flush()).toBeUndefined();
  });

  it('never tears a character split across two chunks', () => {
    const bytes = Buffer.from('größe\n', 'utf8');
    const lines = new LineBuffer();
    expect(lines.push(bytes.subarray(0, 3))).toEqual([]);
    expect(lines.push(bytes.subarray(3)).map((l) => l.toString('utf8'))).toEqual(['größe']);
  });
});

describe('the line printer', () => {
  it('prefixes each line with its host, stderr marked, in the order lines complete', () => {
    const out = sink();
    const printer = createLinePrinter(out, { format: rawLine, group: false });
    printer.output('web1', 'stdout', Buffer.from('a1\na'));
    printer.output('web2', 'stdout', Buffer.from('b1\n'));
    printer.output('web1', 'stderr', Buffer.from('oops\n'));
    printer.output('web1', 'stdout', Buffer.from('2\n'));
    printer.output('web2', 'stdout', Buffer.from('no newline at the end'));
    printer.hostDone('web2');
    printer.hostDone('web1');
    expect(out.text()).toBe(
      [
        '[web1] a1',
        '[web2] b1',
        '[web1] ! oops',
        '[web1] a2',
        '[web2] no newline at the end',
        '',
      ].join('\n'),
    );
  });

  it('with group, prints each host as one block when it is done', () => {
    const out = sink();
    const printer = createLinePrinter(out, { format: rawLine, group: true });
    printer.output('web1', 'stdout', Buffer.from('a1\n'));
    printer.output('web2', 'stdout', Buffer.from('b1\n'));
    printer.output('web1', 'stderr', Buffer.from('a-err\n'));
    printer.output('web1', 'stdout', Buffer.from('a2\n'));
    expect(out.writes).toEqual([]);
    printer.hostDone('web2');
    printer.hostDone('web1');
    expect(out.writes.map(String)).toEqual([
      '[web2] b1\n',
      '[web1] a1\n[web1] ! a-err\n[web1] a2\n',
    ]);
  });

  it("shows exec's bytes as they are, and escapes control characters in logs", () => {
    const line = Buffer.from('\x1b[2Jcolour\ttab\0nul', 'utf8');
    expect(Buffer.from(rawLine('h', 'stdout', line)).toString()).toBe(
      '[h] \x1b[2Jcolour\ttab\0nul\n',
    );
    expect(printableLine('h', 'stdout', line)).toBe('[h] \\x1b[2Jcolour\ttab\\x00nul\n');
  });

  it('keeps a hostile host name on one line in its prefix', () => {
    expect(linePrefix('we\nb\x1b', 'stderr')).toBe('[we\\nb\\x1b] ! ');
  });
});
