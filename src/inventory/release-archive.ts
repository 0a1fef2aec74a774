import { ArchiveProblem, bytesOnce, runTar, sha256OfFile } from './archive-file.js';
import type { ArchiveFormat, ReleaseArchive } from './types.js';

export { ArchiveProblem } from './archive-file.js';

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
  const listing = (
    await runTar([...(flag ? [flag] : []), '--list', '--verbose', '--file', file])
  ).toString('utf8');
  const { strip } = findHermes(parseListing(listing));
  return {
    path: file,
    written,
    sha256,
    id: sha256.slice(0, 16),
    size,
    format,
    strip,
    bytes: bytesOnce(file, written, sha256, 'the release archive'),
  };
}
