import type { PathFact } from '../facts/types.js';
import { isDownload, type ReleaseArchive, type ReleaseSource } from '../inventory/types.js';
import { oneLine, palette } from '../text.js';
import { formatMegabytes } from './attr-words.js';
import { basename, never, noDiff, type ChangeRecords, type DiffContext } from './record.js';

/*
 * Releases (src/apply/ops/release.sh): unpacked root-owned under `<root>/releases/<id>`, the
 * `current` link switched, old ones pruned. Only the link goes back on a rollback.
 */

export type ReleaseChange =
  /**
   * A release unpacked into `path` (`<root>/releases/<id>`, root's): the archive's bytes follow
   * on stdin (a local archive; detach.sh unpacks them as they arrive) or the host downloads
   * them (a `url`), land in a temporary directory, are checked (size, sha256, an executable
   * bin/hermes) and only then renamed to `path`. Nothing to undo: an unused release is harmless.
   */
  | {
      kind: 'release-unpack';
      path: string;
      archive: ReleaseSource;
      /** Set for a plugin (extraPlugins), its name: the tree must hold plugin.yaml, not bin/hermes. */
      plugin?: string;
    }
  /**
   * The `current` link (`path`) replaced atomically by one to `target` (`releases/<id>`), and
   * that release's directory touched: its mtime is when it was last switched to (pruning goes
   * oldest switch first). `from`/`to`: the release ids, for people (`from` absent on a first
   * install).
   */
  | {
      kind: 'release-switch';
      path: string;
      target: string;
      before: PathFact;
      from?: string;
      to: string;
    }
  /** A release directory, or a killed upload's temporary directory, removed whole (root's). */
  | { kind: 'release-remove'; path: string; why: string };

const EXAMPLE: ReleaseArchive = {
  path: '/tmp/r.tar.gz',
  written: 'r.tar.gz',
  sha256: 'ab'.repeat(32),
  id: 'ab'.repeat(8),
  size: 2_000_000,
  format: 'gzip',
  strip: 1,
  bytes: () => Promise.resolve(Buffer.alloc(0)),
};

/** A release has no text to diff: what moves is said in one line. */
function releaseDiff(line: string, context: DiffContext): string[] {
  return [palette(context.color).cyan(`${context.where}: ${oneLine(line)}`)];
}

const unpackLine = ({
  path,
  archive,
  plugin,
}: Extract<ReleaseChange, { kind: 'release-unpack' }>) => {
  const what = plugin === undefined ? 'release' : `plugin ${plugin}`;
  return isDownload(archive)
    ? `download ${what} ${basename(path)} from ${archive.written}`
    : `upload ${what} ${basename(path)} (${formatMegabytes(archive.size)})`;
};
const switchLine = (change: Extract<ReleaseChange, { kind: 'release-switch' }>) =>
  `switch current: ${change.from ?? '(none)'} -> ${change.to}`;

export const RELEASE_CHANGES: ChangeRecords<ReleaseChange> = {
  'release-unpack': {
    doc: 'a release (or a plugin) uploaded, or downloaded by the host, and unpacked',
    example: { kind: 'release-unpack', path: `/opt/releases/${EXAMPLE.id}`, archive: EXAMPLE },
    // A new release directory is harmless (and pruned later); the link that names it goes back.
    undo: 'none',
    restarts: never,
    encode: ({ path, archive, plugin }) => {
      const check = plugin === undefined ? undefined : 'plugin';
      return isDownload(archive)
        ? // The host downloads it (curl or wget): the URL is a field, the controller sends no byte
          // of it, and where bin/hermes is inside it is found once unpacked (`strip=auto`).
          {
            fields: {
              path,
              check,
              url: archive.url,
              sha256: archive.sha256,
              format: archive.format,
              strip: 'auto',
            },
          }
        : {
            fields: {
              path,
              check,
              size: String(archive.size),
              sha256: archive.sha256,
              format: archive.format,
              strip: String(archive.strip),
            },
            upload: archive,
          };
    },
    describe: unpackLine,
    json: ({ path, archive }) => ({
      release: isDownload(archive)
        ? { id: basename(path), url: archive.written }
        : { id: basename(path), bytes: archive.size },
    }),
    diff: (change, context) => releaseDiff(unpackLine(change), context),
    drift: true,
  },
  'release-switch': {
    doc: '`current` switched',
    example: {
      kind: 'release-switch',
      path: '/opt/current',
      target: `releases/${EXAMPLE.id}`,
      before: { kind: 'absent' },
      to: EXAMPLE.id,
    },
    undo: 'path',
    restarts: never,
    encode: (change) => ({ fields: { path: change.path, target: change.target } }),
    describe: switchLine,
    json: (change) => ({ release: { id: change.to, from: change.from ?? null } }),
    diff: (change, context) => releaseDiff(switchLine(change), context),
    drift: true,
  },
  'release-remove': {
    doc: 'a release beyond `keep`, or an interrupted upload, removed',
    example: { kind: 'release-remove', path: '/opt/releases/old', why: 'pruned' },
    // Pruning runs only after the health check passed: a rollback never follows it.
    undo: 'none',
    restarts: never,
    encode: (change) => ({ fields: { path: change.path } }),
    describe: (change) => `remove ${change.path} (${change.why})`,
    json: (change) => ({ release: { id: basename(change.path) } }),
    diff: noDiff,
    drift: true,
  },
};
