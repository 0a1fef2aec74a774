import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveProblem } from './archive-file.js';
import { archiveFormat, ARCHIVE_ENDINGS, inspectArchive } from './release-archive.js';
import type { ReleaseArchive, ReleaseDownload } from './types.js';

/**
 * `hermes.release.url`: a release each host downloads itself, checked against the sha256 the
 * inventory gives (src/apply/ops/release.sh). The controller reads none of it, unless the run
 * says `--release-from-controller`: then it downloads the file once, checks it and uploads it
 * as it would a local archive, for hosts with no route to the store.
 */

/** The URL as people see it: no user, password or query (a query may carry a token). */
export function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
}

/** The release at `url`, for the hosts to fetch: its id and format from the inventory alone. */
export function releaseDownload(url: string, sha256: string): ReleaseDownload {
  const format = archiveFormat(new URL(url).pathname);
  // The schema's pattern already asks for the ending; this is its one reader.
  if (!format) throw new ArchiveProblem(`its path must end in ${ARCHIVE_ENDINGS}`);
  return { url, written: shownUrl(url), sha256, id: sha256.slice(0, 16), format };
}

/** Temporary directories of this process's downloads, removed when it exits. */
const downloads: string[] = [];
function removeDownloads(): void {
  for (const dir of downloads.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * `--release-from-controller`: the file downloaded once into a private temporary directory
 * (removed when the process exits), hashed as it streams in, refused unless its sha256 is the
 * one given, then inspected as a local archive (`bin/hermes` found; sent from that file, as an archive is).
 */
export async function downloadOnController(url: string, sha256: string): Promise<ReleaseArchive> {
  const release = releaseDownload(url, sha256);
  if (downloads.length === 0) process.once('exit', removeDownloads);
  const dir = mkdtempSync(path.join(tmpdir(), 'hermes-fleet-release-'));
  downloads.push(dir);
  const ending = /\.(tar\.gz|tgz|tar\.xz|tar\.zst|tar)$/.exec(new URL(url).pathname)?.[0] ?? '';
  const file = path.join(dir, `release${ending}`);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    const cause =
      err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new ArchiveProblem(`the download failed${cause}`);
  }
  if (!response.ok || !response.body) {
    throw new ArchiveProblem(`the download failed: HTTP ${response.status}`);
  }
  const hash = createHash('sha256');
  const body = Readable.fromWeb(response.body);
  body.on('data', (chunk: Buffer) => hash.update(chunk));
  try {
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    throw new ArchiveProblem(
      `the download stopped early: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const got = hash.digest('hex');
  if (got !== sha256) {
    throw new ArchiveProblem(
      `the file downloaded has sha256 ${got}, not the sha256 given (${sha256}): not using it`,
    );
  }
  return inspectArchive(file, release.written);
}
