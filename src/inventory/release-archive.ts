import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import type { ArchiveFormat, ReleaseArchive } from './types.js';

/** The endings a release archive may have, and how each is packed. */
const FORMATS: readonly [RegExp, ArchiveFormat][] = [
  [/\.tar$/, 'tar'],
  [/\.(tar\.gz|tgz)$/, 'gzip'],
  [/\.tar\.xz$/, 'xz'],
  [/\.tar\.zst$/, 'zstd'],
];

export const ARCHIVE_ENDINGS = '.tar, .tar.gz, .tgz, .tar.xz or .tar.zst';

export function archiveFormat(file: string): ArchiveFormat | undefined {
  return FORMATS.find(([ending]) => ending.test(file))?.[1];
}

/** GNU tar's option for each format: the same on the control machine and on the hosts. */
export const TAR_FLAG: Record<ArchiveFormat, string | undefined> = {
  tar: undefined,
  gzip: '--gzip',
  xz: '--xz',
  zstd: '--zstd',
};

/** The program a host needs besides tar to unpack the format, and the package that has it. */
export const DECOMPRESSOR: Record<ArchiveFormat, { program: string; pkg: string } | undefined> = {
  tar: undefined,
  gzip: { program: 'gzip', pkg: 'gzip' },
  xz: { program: 'xz', pkg: 'xz-utils' },
  zstd: { program: 'zstd', pkg: 'zstd' },
};

/** Why an archive cannot be used; the caller names the file and the inventory key. */
export class ArchiveProblem extends Error {}

/** One member of `tar --list --verbose`: its type and mode letters, and its name. */
export interface Member {
  modeLetters: string;
  name: string;
}

const VERBOSE_LINE = /^(\S{10})\s+\S+\s+\S+\s+\d{4}-\d\d-\d\d\s+\d\d:\d\d(?::\d\d)?\s(.*)$/;

/** Parses GNU tar's `-tv` listing (names are escaped by tar: one member per line). */
export function parseListing(listing: string): Member[] {
  const members: Member[] = [];
  for (const line of listing.split('\n')) {
    if (line === '') continue;
    const match = VERBOSE_LINE.exec(line);
    if (!match) continue;
    const modeLetters = match[1] ?? '';
    let name = match[2] ?? '';
    if (modeLetters.startsWith('l')) name = name.replace(/ -> .*$/, '');
    if (modeLetters.startsWith('h')) name = name.replace(/ link to .*$/, '');
    members.push({ modeLetters, name });
  }
  return members;
}

/**
 * Where `bin/hermes` is: at the top (strip the `./` components only), or under one top-level
 * directory, which is stripped. Throws ArchiveProblem when it is not there, or not executable.
 */
export function findHermes(members: readonly Member[]): { strip: number } {
  const parts = (name: string) => name.split('/').filter((c) => c !== '');
  const meaningful = (name: string) => parts(name).filter((c) => c !== '.');
  const tops = new Set(
    members.map((m) => meaningful(m.name)[0]).filter((c): c is string => c !== undefined),
  );
  const candidates = members.filter((m) => {
    const c = meaningful(m.name);
    if (c.length === 2) return c[0] === 'bin' && c[1] === 'hermes';
    return c.length === 3 && tops.size === 1 && c[1] === 'bin' && c[2] === 'hermes';
  });
  const hermes = candidates[0];
  if (!hermes) {
    throw new ArchiveProblem(
      'it has no bin/hermes at its top or under its one top-level directory: pack the built hermes-agent tree (README, "Releases")',
    );
  }
  const type = hermes.modeLetters[0];
  if (type === 'd') throw new ArchiveProblem('its bin/hermes is a directory');
  // A link is checked on the host, once unpacked; a file must carry an execute bit here.
  if (type !== 'l' && !/[xs]/.test(hermes.modeLetters.slice(1))) {
    throw new ArchiveProblem(
      `its bin/hermes is not executable (${hermes.modeLetters}): chmod +x it before packing`,
    );
  }
  return { strip: parts(hermes.name).length - 2 };
}

function run(program: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      reject(new ArchiveProblem(`${program} could not be started: ${error.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'));
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
async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
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
 * Inspects a release archive on the control machine: its sha256 (hashed as a stream), and
 * `tar --list` to find bin/hermes. The bytes themselves are read later, once, by `bytes()`.
 * Rejects with ArchiveProblem (or the file system's error) when it cannot be used.
 */
export async function inspectArchive(file: string, written: string): Promise<ReleaseArchive> {
  const format = archiveFormat(file);
  if (!format) throw new ArchiveProblem(`its name must end in ${ARCHIVE_ENDINGS}`);
  const { sha256, size } = await sha256OfFile(file);
  const flag = TAR_FLAG[format];
  const listing = await run('tar', [
    ...(flag ? [flag] : []),
    '--list',
    '--verbose',
    '--file',
    file,
  ]);
  const { strip } = findHermes(parseListing(listing));
  let loaded: Promise<Buffer> | undefined;
  return {
    path: file,
    written,
    sha256,
    id: sha256.slice(0, 16),
    size,
    format,
    strip,
    bytes() {
      loaded ??= readFile(file).then((bytes) => {
        const now = createHash('sha256').update(bytes).digest('hex');
        if (now !== sha256) {
          throw new Error(
            `the release archive ${written} changed during the run (its sha256 is no longer ${sha256.slice(0, 16)}…): nothing was uploaded; run again`,
          );
        }
        return bytes;
      });
      return loaded;
    },
  };
}
