import { formatMode, pathKindNoun, type Attrs, type PathFact } from '../facts/types.js';
import { palette } from '../text.js';
import {
  attrDelta,
  deltaText,
  forgetsText,
  formatAttrs,
  formatOwner,
  type AttrDelta,
} from './attr-words.js';
import { fileDiffLines, secretDiff, textPatch } from './file-diff.js';
import type { JsonFields } from './json-fields.js';
import {
  actorFields,
  attrFields,
  bodyBytes,
  never,
  noDiff,
  noFields,
  type Actor,
  type ChangeRecords,
  type DiffContext,
  type Encoded,
  type FileBody,
  type Forgotten,
} from './record.js';

/*
 * Paths (src/apply/ops/files.sh): directories, files written atomically, modes and owners, links
 * and removals, each by the actor the plan names. The rollback keeps each one's path first.
 */

export type PathChange =
  /** mkdir when absent, then owner and mode. */
  | ({ kind: 'dir'; path: string; attrs: Attrs; before: PathFact } & Actor)
  /** Atomic write: temp file in the same directory with final mode+owner, renamed over path. */
  | ({
      kind: 'file';
      path: string;
      body: FileBody;
      attrs: Attrs;
      before: PathFact;
      /** Keys this write removes because the inventory no longer has them. */
      forgets?: Forgotten[];
    } & Actor)
  /** Content already right; only mode and/or owner differ. */
  | ({ kind: 'attrs'; path: string; attrs: Attrs; before: PathFact } & Actor)
  | ({ kind: 'symlink'; path: string; target: string; before: PathFact } & Actor)
  | ({
      kind: 'remove';
      path: string;
      before: PathFact;
      /** Why, for humans, when it is not plain: `no longer in the inventory`. */
      why?: string;
    } & Actor);

type AttrChange = Extract<PathChange, { kind: 'file' | 'dir' | 'attrs' }>;

const ROOT = { mode: 0o644, user: 'root', group: 'root' };
const ABSENT = { kind: 'absent' } as const;

/** A change to one path, its mode and owner (a directory made, attributes set). */
function pathAttrs(change: Extract<PathChange, { kind: 'dir' | 'attrs' }>): Encoded {
  return { fields: { path: change.path, ...attrFields(change.attrs), ...actorFields(change) } };
}

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

export const PATH_CHANGES: ChangeRecords<PathChange> = {
  dir: {
    doc: 'a directory created, or its mode and owner set',
    example: { kind: 'dir', path: '/d', attrs: ROOT, before: ABSENT },
    undo: 'path',
    restarts: never,
    encode: pathAttrs,
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
    doc: 'a file written atomically, with its final mode and owner (and `removes`, `diff`, or `secret` and `keys`, when they apply)',
    example: { kind: 'file', path: '/f', body: { text: 'x\n' }, attrs: ROOT, before: ABSENT },
    undo: 'path',
    restarts: never,
    encode: (change) => {
      const body = bodyBytes(change.body);
      return {
        fields: {
          path: change.path,
          ...attrFields(change.attrs),
          size: String(body.length),
          ...actorFields(change),
        },
        body,
      };
    },
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
    doc: "a path's mode and owner set, its content already right",
    example: { kind: 'attrs', path: '/a', attrs: ROOT, before: ABSENT },
    undo: 'path',
    restarts: never,
    encode: pathAttrs,
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
    doc: 'a symbolic link made or pointed elsewhere',
    example: { kind: 'symlink', path: '/l', target: '/t', before: ABSENT },
    undo: 'path',
    restarts: never,
    encode: (change) => ({
      fields: { path: change.path, target: change.target, ...actorFields(change) },
    }),
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
    doc: 'a path removed',
    example: { kind: 'remove', path: '/r', before: ABSENT, why: 'no longer in the inventory' },
    undo: 'path',
    restarts: never,
    encode: (change) => ({ fields: { path: change.path, ...actorFields(change) } }),
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
};
