import { readFileSync } from 'node:fs';
import type { StdinData, StdinPart } from '../../src/exec/write-stdin.js';

/** A stdin's parts as the bytes they send, a file part read now (as writeStdin reads it). */
export function partsBytes(parts: readonly StdinPart[]): Buffer {
  return Buffer.concat(
    parts.map((part) =>
      Buffer.isBuffer(part) ? part : readFileSync(part.file).subarray(0, part.size),
    ),
  );
}

/** A command's whole stdin as text. */
export function stdinText(data: StdinData | undefined): string {
  if (data === undefined) return '';
  if (typeof data === 'string') return data;
  return (Buffer.isBuffer(data) ? data : partsBytes(data)).toString('utf8');
}
