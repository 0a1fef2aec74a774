import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileBytes } from '../exec/write-stdin.js';

/**
 * What release and image archives share on the control machine: hashed as a stream at load
 * time and again, once per run, when a host needs the bytes (then sent from the file as they are
 * read), and listed or read with the machine's own tar (never a tar of our own).
 */

/** Why an archive cannot be used; the caller names the file and the inventory key. */
export class ArchiveProblem extends Error {}

/** Runs tar with `args`; its stdout, or ArchiveProblem with the first lines tar said. */
export function runTar(args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      reject(new ArchiveProblem(`tar could not be started: ${error.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) {
        resolve(Buffer.concat(out));
        return;
      }
      const why = Buffer.concat(err).toString('utf8').trim().split('\n').slice(0, 3).join('; ');
      reject(new ArchiveProblem(`tar cannot read it: ${why || `exit code ${code ?? 'none'}`}`));
    });
  });
}

/**
 * The sha256 and size of a file, read through one reused 1 MiB buffer: hashing a 64 MB archive
 * leaves no 64 MB of garbage chunks behind for the collector (the run's peak memory).
 */
export async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const handle = await open(file, 'r');
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * The file to send, checked the first time it is asked for (hashed as a stream, as at load time)
 * and the same for every host after that; rejects when the file no longer has the sha256 it had
 * at load time. `what` names the archive in that message (`the release archive`). The bytes are
 * read as they are sent (write-stdin.ts), so the run's memory does not grow with the archive;
 * a file changed after the check reaches the host with the wrong sha256, which refuses it.
 */
export function bytesOnce(
  file: string,
  written: string,
  sha256: string,
  what: string,
): () => Promise<FileBytes> {
  let checked: Promise<FileBytes> | undefined;
  return () => {
    checked ??= sha256OfFile(file).then((now) => {
      if (now.sha256 !== sha256) {
        throw new Error(
          `${what} ${written} changed during the run (its sha256 is no longer ${sha256.slice(0, 16)}…): nothing was uploaded; run again`,
        );
      }
      return { file, size: now.size };
    });
    return checked;
  };
}
