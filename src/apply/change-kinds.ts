import { lineField } from '../exec/line-field.js';
import { formatMode, type Attrs } from '../facts/types.js';
import { isDownload } from '../inventory/types.js';
import type { Actor, ChangeKind, ChangeOf, FileBody } from '../plan/types.js';

/**
 * The apply layer's record of each change kind: how apply.sh's operation of the same name gets
 * it (its named fields, a body or an upload after the header), what a rollback does about it, and
 * whether its failure is a failed (re)start. One entry per kind of `Change` (src/plan/types.ts);
 * a kind without one fails to compile. The report layer keeps its own record, keyed the same way
 * (src/report/change-kinds.ts).
 */
export interface ChangeOperation<K extends ChangeKind> {
  /**
   * What an automatic rollback does about it (apply.sh carries it out, as `undo=`):
   * - `path`: before the change, the batch keeps what is at the change's `path` (a file whole, a
   *   link's target, a directory's owner and mode, or that nothing was there) and the rollback
   *   puts exactly that back, whatever the change did. A kind with a `path` declares this and
   *   needs nothing else (its operation must change nothing but `path`, and its actor fields
   *   `as`/`tree` say who may put it back).
   * - `each`: the operation writes several paths, and keeps each one first as a `file` change
   *   would (a generation put back).
   * - `repeat`: the rollback does the same operation again once the paths are back (a container
   *   removed again, so the next start recreates it from the restored definition).
   * - `none`: nothing to put back: accounts (harmless, and deleting one is not), systemd actions
   *   (the rollback itself stops the unit, reloads systemd and starts it again), the health check.
   */
  undo: 'path' | 'each' | 'repeat' | 'none';
  /**
   * Whether the change (re)starts the service or checks it: when it fails in a batch that rolls
   * back (`rollback=1`), everything the batch kept is put back and the old state restarted.
   */
  restarts: (change: ChangeOf<K>) => boolean;
  /** The operation's named fields, and the bytes that follow its header on stdin. */
  encode: (change: ChangeOf<K>, context: RecordContext | undefined) => Encoded;
}

/**
 * An operation as the change gives it. `body`: bytes that follow the header (`size` says how
 * many). `upload`: a large body read only when the batch is sent, and shared by every host that
 * sends it (a release or image archive: read once per run, never copied per host).
 */
export interface Encoded {
  fields: Record<string, string | undefined>;
  body?: Buffer;
  upload?: { size: number; bytes(): Promise<Buffer> };
}

function bodyBytes(body: FileBody): Buffer {
  // The only place a secret file's value is revealed: into the SSH channel's stdin.
  return Buffer.from('text' in body ? body.text : body.secret.reveal(), 'utf8');
}

const attrFields = (attrs: Attrs) => ({
  mode: formatMode(attrs.mode),
  user: attrs.user,
  group: attrs.group,
});

const actorFields = (actor: Actor) => ({ as: actor.as, tree: actor.tree });

/** The pending-restart note is root's alone. */
const NOTE_ATTRS: Attrs = { mode: 0o600, user: 'root', group: 'root' };

const never = (): boolean => false;

/** A change to one path, its mode and owner (a directory made, attributes set). */
function pathAttrs(change: ChangeOf<'dir' | 'attrs'>): Encoded {
  return { fields: { path: change.path, ...attrFields(change.attrs), ...actorFields(change) } };
}

/**
 * What a generation records about the run that made it, from the control machine: who ran it,
 * which hermes-fleet, and the sha256 of each inventory file.
 */
export interface RecordContext {
  who: string;
  version: string;
  inventory: { file: string; sha256: string }[];
}

/** One value of a generation's body line: tabs and newlines would split it. */
function bodyValue(value: string): string {
  return value.replace(/[\t\n\r]/g, '?');
}

/**
 * A generation's body, one line each: `meta<TAB>key=value` (who, version, inventory),
 * `file<TAB>name<TAB>path<TAB>account<TAB>secret`, `link<TAB>path` (the release link).
 */
function generationBody(
  change: ChangeOf<'generation'>,
  context: RecordContext | undefined,
): Buffer {
  const lines: string[] = [];
  if (context) {
    lines.push(
      `meta\twho=${bodyValue(context.who)}`,
      `meta\tversion=${bodyValue(context.version)}`,
    );
    for (const f of context.inventory) {
      lines.push(`meta\tinventory=${f.sha256}  ${bodyValue(f.file)}`);
    }
  }
  for (const f of change.files) {
    // `-`: no account (the host reads fields split on tabs, where an empty one would vanish).
    const values = [f.name, f.path, f.as ?? '-', f.secret === true ? '1' : '0'];
    lines.push(['file', ...values.map((v) => lineField(v, 'apply'))].join('\t'));
  }
  if (change.releaseLink !== undefined) {
    lines.push(`link\t${lineField(change.releaseLink, 'apply')}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

export const CHANGE_OPERATIONS: { [K in ChangeKind]: ChangeOperation<K> } = {
  'group-create': {
    undo: 'none',
    restarts: never,
    encode: (change) => ({ fields: { name: change.name } }),
  },
  'user-create': {
    undo: 'none',
    restarts: never,
    encode: (change) => ({
      fields: { name: change.name, group: change.group, home: change.home, shell: change.shell },
    }),
  },
  dir: { undo: 'path', restarts: never, encode: pathAttrs },
  file: {
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
  },
  attrs: { undo: 'path', restarts: never, encode: pathAttrs },
  symlink: {
    undo: 'path',
    restarts: never,
    encode: (change) => ({
      fields: { path: change.path, target: change.target, ...actorFields(change) },
    }),
  },
  remove: {
    undo: 'path',
    restarts: never,
    encode: (change) => ({ fields: { path: change.path, ...actorFields(change) } }),
  },
  systemd: {
    undo: 'none',
    restarts: (change) => change.action === 'restart' || change.action === 'start',
    encode: (change) => ({ fields: { action: change.action, unit: change.unit } }),
  },
  'wait-healthy': {
    undo: 'none',
    restarts: () => true,
    encode: (change) => {
      const body = Buffer.from(change.command ?? '', 'utf8');
      return {
        fields: {
          unit: change.unit,
          seconds: String(change.seconds),
          user: change.user,
          size: String(body.length),
        },
        ...(body.length > 0 ? { body } : {}),
      };
    },
  },
  'restart-pending': {
    undo: 'path',
    restarts: never,
    encode: (change) => {
      const fields = { action: change.action, path: change.path, unit: change.unit };
      if (change.action === 'clear') return { fields };
      const body = Buffer.from(`${change.unit} must restart (hermes-fleet)\n`, 'utf8');
      return {
        fields: { ...fields, ...attrFields(NOTE_ATTRS), size: String(body.length) },
        body,
      };
    },
  },
  'container-remove': {
    undo: 'repeat',
    restarts: never,
    encode: (change) => ({ fields: { backend: change.backend, name: change.name } }),
  },
  'release-unpack': {
    // A new release directory is harmless (and pruned later); the link that names it goes back.
    undo: 'none',
    restarts: never,
    encode: ({ path, archive }) =>
      isDownload(archive)
        ? // The host downloads it (curl or wget): the URL is a field, the controller sends no byte
          // of it, and where bin/hermes is inside it is found once unpacked (`strip=auto`).
          {
            fields: {
              path,
              url: archive.url,
              sha256: archive.sha256,
              format: archive.format,
              strip: 'auto',
            },
          }
        : {
            fields: {
              path,
              size: String(archive.size),
              sha256: archive.sha256,
              format: archive.format,
              strip: String(archive.strip),
            },
            upload: archive,
          },
  },
  'release-switch': {
    undo: 'path',
    restarts: never,
    encode: (change) => ({ fields: { path: change.path, target: change.target } }),
  },
  'release-remove': {
    // Pruning runs only after the health check passed: a rollback never follows it.
    undo: 'none',
    restarts: never,
    encode: (change) => ({ fields: { path: change.path } }),
  },
  'image-load': {
    // An unused image is harmless; the container identity that names it is a path and goes back.
    undo: 'none',
    restarts: never,
    encode: ({ backend, archive }) => ({
      fields: {
        backend,
        image: archive.id,
        size: String(archive.size),
        sha256: archive.sha256,
      },
      upload: archive,
    }),
  },
  generation: {
    // Recorded only after the health check passed: a rollback never follows it.
    undo: 'none',
    restarts: never,
    encode: (change, context) => {
      const body = generationBody(change, context);
      return {
        fields: { path: change.path, keep: String(change.keep), size: String(body.length) },
        body,
      };
    },
  },
  'generation-restore': {
    // Each file it writes is kept first, as a `file` change's would be.
    undo: 'each',
    restarts: never,
    encode: (change) => ({
      fields: {
        path: change.path,
        name: change.number === undefined ? 'previous' : String(change.number),
        unit: change.unit,
      },
    }),
  },
};

/** A change's entry in CHANGE_OPERATIONS. */
export function operationOf<K extends ChangeKind>(change: ChangeOf<K>): ChangeOperation<K> {
  return CHANGE_OPERATIONS[change.kind];
}

/**
 * Every change kind, in the record's order, for what needs them as values (the JSON report's
 * schema, the test that apply.sh has an operation for each).
 */
export const CHANGE_KINDS = Object.keys(CHANGE_OPERATIONS) as [ChangeKind, ...ChangeKind[]];
