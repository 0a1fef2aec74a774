import { formatMode, pathKindNoun, type Attrs, type PathFact } from '../facts/types.js';
import { shortImageId } from '../inventory/image-archive.js';
import { isDownload } from '../inventory/types.js';
import type { Change, ChangeKind, ChangeOf } from '../plan/types.js';
import {
  attrDelta,
  deltaText,
  forgetsText,
  formatAttrs,
  formatMegabytes,
  formatOwner,
  type AttrDelta,
} from './describe.js';
import { fileDiffLines, secretDiff, textPatch } from './diff.js';
import type { ReportChange } from './json-schema.js';
import { oneLine, palette } from './text.js';

/** What the JSON report says of a change beyond its kind, summary and path. */
export type JsonFields = Omit<ReportChange, 'kind' | 'summary' | 'path'>;

/** Where a change's `--diff` lines are written, and how. */
export interface DiffContext {
  host: string;
  /** `web01:/path` (or `web01:` for a change without a path), made one line. */
  where: string;
  color: boolean;
}

/**
 * The report layer's record of each change kind: how people and CI read it. One entry per kind
 * of `Change`, keyed as the apply layer's record is (src/apply/change-kinds.ts); a kind without
 * one fails to compile, and so does an entry without any of these.
 */
export interface ChangeReporting<K extends ChangeKind> {
  /**
   * One short line saying what the change does (the text views, the JUnit drift, the JSON
   * `summary`). Never shows file contents, so a secret body cannot appear here.
   */
  describe: (change: ChangeOf<K>) => string;
  /** Its fields in the JSON report (docs/report-schema.md), built field by field: no Secret. */
  json: (change: ChangeOf<K>, options: { host: string; diff: boolean }) => JsonFields;
  /** What `--diff` shows of it, in order (none: nothing to show). */
  diff: (change: ChangeOf<K>, context: DiffContext) => string[];
  /** false: bookkeeping of the run, not drift of the host (check mode's JUnit leaves it out). */
  drift: boolean;
}

const noFields = (): JsonFields => ({});
const noDiff = (): string[] => [];

type AttrChange = ChangeOf<'file' | 'dir' | 'attrs'>;

/** The mode/owner difference of a change, against the path as it was read. */
function changeAttrDelta(change: AttrChange): AttrDelta {
  if (change.kind !== 'attrs' && change.before.kind !== change.kind) return {};
  return attrDelta(change.before, change.attrs);
}

/** A file or directory that did not exist as that kind: every attribute is new. */
function isNew(change: AttrChange): boolean {
  return change.kind === 'attrs'
    ? change.before.kind === 'absent'
    : change.before.kind !== change.kind;
}

/** The JSON report's mode and owner of a change that sets them. */
function attrJson(change: AttrChange): JsonFields {
  if (isNew(change)) {
    return {
      mode: { before: null, after: formatMode(change.attrs.mode) },
      owner: { before: null, after: formatOwner(change.attrs) },
    };
  }
  const delta = changeAttrDelta(change);
  return {
    ...(delta.mode ? { mode: delta.mode } : {}),
    ...(delta.owner ? { owner: delta.owner } : {}),
  };
}

/** `--diff`'s mode and owner lines. */
function attrDiff(change: AttrChange, { where, color }: DiffContext): string[] {
  const c = palette(color);
  const delta = changeAttrDelta(change);
  return [
    ...(delta.mode ? [c.cyan(`${where}: mode ${delta.mode.before} → ${delta.mode.after}`)] : []),
    ...(delta.owner
      ? [c.cyan(`${where}: owner ${delta.owner.before} → ${delta.owner.after}`)]
      : []),
  ];
}

/** A directory or file planned where another kind (or nothing) is. */
function created(noun: 'directory' | 'file', path: string, before: PathFact, attrs: Attrs) {
  if (before.kind === 'absent') {
    return noun === 'directory'
      ? `create directory ${path} (${formatAttrs(attrs)})`
      : `write ${path} (${formatAttrs(attrs)})`;
  }
  return `replace ${pathKindNoun(before.kind)} with ${noun} ${path} (${formatAttrs(attrs)})`;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A release has no text to diff: what moves is said in one line. */
function releaseDiff(change: ChangeOf<'release-unpack' | 'release-switch'>, context: DiffContext) {
  return [palette(context.color).cyan(`${context.where}: ${describeChange(change)}`)];
}

export const CHANGE_REPORTS: { [K in ChangeKind]: ChangeReporting<K> } = {
  'group-create': {
    describe: (change) => `create group ${change.name}`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'user-create': {
    describe: (change) => {
      const group = change.group === change.name ? '' : `group ${change.group}, `;
      return `create user ${change.name} (${group}home ${change.home}, shell ${change.shell})`;
    },
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  dir: {
    describe: ({ before, path, attrs }) => {
      if (before.kind !== 'dir') return created('directory', path, before, attrs);
      const delta = deltaText(attrDelta(before, attrs));
      return delta ? `${delta} ${path}` : `directory ${path} (${formatAttrs(attrs)})`;
    },
    json: attrJson,
    diff: attrDiff,
    drift: true,
  },
  file: {
    describe: (change) => {
      const { before, path, attrs } = change;
      if (before.kind !== 'file') return created('file', path, before, attrs);
      const delta = deltaText(attrDelta(before, attrs));
      const update = delta ? `update ${path} (${delta})` : `update ${path}`;
      return `${update}${forgetsText(change.forgets)}`;
    },
    json: (change, { host, diff }) => {
      const out: JsonFields = attrJson(change);
      if (change.forgets && change.forgets.length > 0) {
        out.removes = change.forgets.map((f) => f.key);
      }
      const secret = secretDiff(change);
      if (secret) {
        out.secret = true;
        if (secret.kind === 'keys') out.keys = secret.keys;
      } else if (diff) {
        const patch = textPatch(host, change);
        if (patch !== undefined) out.diff = patch;
      }
      return out;
    },
    diff: (change, context) => [...attrDiff(change, context), ...fileDiffLines(change, context)],
    drift: true,
  },
  attrs: {
    describe: (change) => {
      const delta = deltaText(attrDelta(change.before, change.attrs));
      return delta
        ? `${delta} ${change.path}`
        : `set ${change.path} to ${formatAttrs(change.attrs)}`;
    },
    json: attrJson,
    diff: attrDiff,
    drift: true,
  },
  symlink: {
    describe: ({ before, path, target }) => {
      const was =
        before.kind === 'symlink'
          ? ` (was → ${before.target})`
          : before.kind === 'absent'
            ? ''
            : ` (replaces a ${pathKindNoun(before.kind)})`;
      return `link ${path} → ${target}${was}`;
    },
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  remove: {
    describe: (change) => {
      const what =
        change.before.kind === 'absent'
          ? `remove ${change.path}`
          : `remove ${pathKindNoun(change.before.kind)} ${change.path}`;
      return change.why === undefined ? what : `${what} (${change.why})`;
    },
    json: noFields,
    diff: (change, { where, color }) =>
      change.why === undefined ? [] : [palette(color).red(`${where}: removed (${change.why})`)],
    drift: true,
  },
  systemd: {
    describe: (change) => {
      const reason = change.reason ? ` (${change.reason})` : '';
      return change.action === 'daemon-reload'
        ? `systemctl daemon-reload${reason}`
        : `${change.action} ${change.unit}${reason}`;
    },
    json: (change) => ({ unit: change.unit, action: change.action }),
    diff: noDiff,
    drift: true,
  },
  'wait-healthy': {
    describe: (change) => {
      // The command itself is left to -vv detail: it is inventory text and can be long.
      const check = change.command === undefined ? '' : `, then health check as ${change.user}`;
      return `wait until ${change.unit} is healthy (${change.seconds}s${check})`;
    },
    json: (change) => ({ unit: change.unit }),
    diff: noDiff,
    drift: true,
  },
  'restart-pending': {
    describe: (change) =>
      change.action === 'set'
        ? `note that ${change.unit} must restart (${change.path}, until a restart succeeds)`
        : `clear the pending-restart note ${change.path}`,
    json: noFields,
    diff: noDiff,
    // The pending-restart note is bookkeeping of the run, not drift of the host.
    drift: false,
  },
  'container-remove': {
    describe: (change) => `remove ${change.backend} container ${change.name} (${change.reason})`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'release-unpack': {
    describe: ({ path, archive }) =>
      isDownload(archive)
        ? `download release ${basename(path)} from ${archive.written}`
        : `upload release ${basename(path)} (${formatMegabytes(archive.size)})`,
    json: ({ path, archive }) => ({
      release: isDownload(archive)
        ? { id: basename(path), url: archive.written }
        : { id: basename(path), bytes: archive.size },
    }),
    diff: releaseDiff,
    drift: true,
  },
  'release-switch': {
    describe: (change) => `switch current: ${change.from ?? '(none)'} -> ${change.to}`,
    json: (change) => ({ release: { id: change.to, from: change.from ?? null } }),
    diff: releaseDiff,
    drift: true,
  },
  'release-remove': {
    describe: (change) => `remove ${change.path} (${change.why})`,
    json: (change) => ({ release: { id: basename(change.path) } }),
    diff: noDiff,
    drift: true,
  },
  'image-load': {
    describe: ({ archive }) =>
      `load image ${shortImageId(archive.id)} from ${basename(archive.written)} (${formatMegabytes(archive.size)})`,
    json: ({ archive }) => ({
      image: { id: archive.id, archive: archive.written, bytes: archive.size },
    }),
    diff: noDiff,
    drift: true,
  },
  generation: {
    describe: (change) =>
      `record a generation in ${change.path} (${change.files.map((f) => f.name).join(', ')}; keep ${change.keep})`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'generation-restore': {
    describe: (change) =>
      change.number === undefined
        ? `restore the generation before the current one (${change.path})`
        : `restore generation ${change.number} (${change.path})`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
};

/** A change's entry in CHANGE_REPORTS. */
export function reportingOf<K extends ChangeKind>(change: ChangeOf<K>): ChangeReporting<K> {
  return CHANGE_REPORTS[change.kind];
}

/**
 * One short line saying what a change does, for people: `create directory /var/lib/hermes
 * (0750 hermes:hermes)`. Never shows file contents, so a secret body cannot appear here.
 */
export function describeChange(change: Change): string {
  return oneLine(reportingOf(change).describe(change));
}

/**
 * What `--diff` shows for one change: a unified diff of a text file, one line per mode or
 * owner change, and for a secret file only the names of the keys that were added, removed or
 * changed. Undefined when there is nothing to show. Never a secret value.
 */
export function renderChangeDiff(
  host: string,
  change: Change,
  options: { color: boolean },
): string | undefined {
  const where = oneLine(`${host}:${'path' in change ? change.path : ''}`);
  const lines = reportingOf(change).diff(change, { host, where, color: options.color });
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** The `--diff` blocks of a task's changes, in order (changes with nothing to show give none). */
export function renderTaskDiffs(
  host: string,
  changes: readonly Change[],
  options: { color: boolean },
): string[] {
  return changes.flatMap((change) => renderChangeDiff(host, change, options) ?? []);
}
