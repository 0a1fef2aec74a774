import { lineField, namedLine } from '../exec/line-field.js';
import { formatMode, type Attrs } from '../facts/types.js';
import {
  UNDO,
  type Actor,
  type Change,
  type FileBody,
  type TaskName,
  type TaskPlan,
} from '../plan/types.js';

/**
 * One operation of the apply batch, with the task it belongs to. Its name is the kind of the
 * change it carries out (apply.sh has one `case` for each); a task's operations are preceded by
 * a `task` marker (no change), where an interrupted batch may stop.
 */
export interface Op {
  task: TaskName;
  change?: Change;
  name: string;
  fields: Record<string, string | undefined>;
  /** Bytes that follow the header on stdin (`size` says how many). */
  body?: Buffer;
  /**
   * A large body read only when the batch is sent, and shared by every host that sends it (a
   * release or image archive: read once per run, never copied per host).
   */
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
  change: Extract<Change, { kind: 'generation' }>,
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

/** The named fields of a change's operation, and the body that follows it. */
function toFields(
  change: Change,
  context?: RecordContext,
): { fields: Op['fields']; body?: Buffer; upload?: Op['upload'] } {
  switch (change.kind) {
    case 'group-create':
      return { fields: { name: change.name } };
    case 'user-create':
      return {
        fields: {
          name: change.name,
          group: change.group,
          home: change.home,
          shell: change.shell,
        },
      };
    case 'dir':
    case 'attrs':
      return {
        fields: { path: change.path, ...attrFields(change.attrs), ...actorFields(change) },
      };
    case 'file': {
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
    }
    case 'symlink':
      return { fields: { path: change.path, target: change.target, ...actorFields(change) } };
    case 'remove':
      return { fields: { path: change.path, ...actorFields(change) } };
    case 'restart-pending': {
      const fields = { action: change.action, path: change.path, unit: change.unit };
      if (change.action === 'clear') return { fields };
      const body = Buffer.from(`${change.unit} must restart (hermes-fleet)\n`, 'utf8');
      return {
        fields: { ...fields, ...attrFields(NOTE_ATTRS), size: String(body.length) },
        body,
      };
    }
    case 'systemd':
      return { fields: { action: change.action, unit: change.unit } };
    case 'container-remove':
      return { fields: { backend: change.backend, name: change.name } };
    case 'release-unpack': {
      const { archive } = change;
      return {
        fields: {
          path: change.path,
          size: String(archive.size),
          sha256: archive.sha256,
          format: archive.format,
          strip: String(archive.strip),
        },
        upload: archive,
      };
    }
    case 'release-switch':
      return { fields: { path: change.path, target: change.target } };
    case 'image-load': {
      const { archive } = change;
      return {
        fields: {
          backend: change.backend,
          image: archive.id,
          size: String(archive.size),
          sha256: archive.sha256,
        },
        upload: archive,
      };
    }
    case 'release-remove':
      return { fields: { path: change.path } };
    case 'generation-restore':
      return {
        fields: {
          path: change.path,
          name: change.number === undefined ? 'previous' : String(change.number),
          unit: change.unit,
        },
      };
    case 'generation': {
      const body = generationBody(change, context);
      return {
        fields: { path: change.path, keep: String(change.keep), size: String(body.length) },
        body,
      };
    }
    case 'wait-healthy': {
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
    }
  }
}

/** The pending-restart note is root's alone. */
const NOTE_ATTRS: Attrs = { mode: 0o600, user: 'root', group: 'root' };

/**
 * The fields that arm the rollback: what each change puts at stake is kept first (`undo`, as
 * UNDO declares), and a failure of the restart or of its health check (`rollback=1`) puts it all
 * back.
 */
function rollbackFields(change: Change): Op['fields'] {
  if (change.kind === 'wait-healthy') return { rollback: '1' };
  if (change.kind === 'generation-restore') return { undo: 'each' };
  if (change.kind === 'systemd' && (change.action === 'restart' || change.action === 'start')) {
    return { rollback: '1' };
  }
  const undo = UNDO[change.kind];
  return undo === 'none' ? {} : { undo };
}

function toOp(
  task: TaskName,
  change: Change,
  rollback: boolean,
  context: RecordContext | undefined,
): Op {
  const { fields, body, upload } = toFields(change, context);
  return {
    task,
    change,
    name: change.kind,
    fields: rollback ? { ...fields, ...rollbackFields(change) } : fields,
    ...(body ? { body } : {}),
    ...(upload ? { upload } : {}),
  };
}

/**
 * Whether this batch rolls back on a failed health check: a health check asks for it (the host
 * had a gateway before this run) and the person did not say `--no-rollback`.
 */
export function rollsBack(plans: readonly TaskPlan[], noRollback = false): boolean {
  return (
    !noRollback &&
    plans.some((plan) =>
      plan.changes.some((change) => change.kind === 'wait-healthy' && change.rollback === true),
    )
  );
}

/** Every change of every plan, in task order, as operations; each task opens with a marker. */
export function planOps(
  plans: readonly TaskPlan[],
  options: { noRollback?: boolean; record?: RecordContext } = {},
): Op[] {
  const rollback = rollsBack(plans, options.noRollback);
  return plans.flatMap((plan) =>
    plan.changes.length === 0
      ? []
      : [
          { task: plan.task, name: 'task', fields: { name: plan.task } },
          ...plan.changes.map((change) => toOp(plan.task, change, rollback, options.record)),
        ],
  );
}

/**
 * The apply batch's stdin: header lines, each body right after its header, as parts written in
 * order (an upload is the shared buffer itself, not a copy). Rejects when an upload cannot be
 * read (a release archive that changed during the run).
 */
export async function encodeOps(ops: readonly Op[]): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for (const [index, op] of ops.entries()) {
    parts.push(Buffer.from(namedLine(index, op.name, op.fields, 'apply'), 'utf8'));
    if (op.body) parts.push(op.body);
    if (op.upload) parts.push(await op.upload.bytes());
  }
  return parts;
}

/** What -vv shows of an operation: its fields, never a body (a body may be a secret). */
export function opSummary(op: Op): string {
  // Not even a secret's length is shown: it narrows down what the value can be.
  const secret = op.change?.kind === 'file' && 'secret' in op.change.body;
  const shown = Object.entries(op.fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'size')
    .map(([key, value]) => `${key}=${value}`);
  if (op.body) shown.push(secret ? '<secret on stdin>' : `<${op.body.length} bytes on stdin>`);
  if (op.upload) shown.push(`<${op.upload.size} bytes on stdin>`);
  return [op.name, ...shown].join(' ');
}
