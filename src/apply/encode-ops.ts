import { lineField } from '../exec/line-field.js';
import type { Change, FileBody, TaskName, TaskPlan } from '../plan/types.js';

/**
 * One operation of the apply batch, with the task it belongs to. A task's operations are
 * preceded by a marker (no change) where an interrupted batch may stop.
 */
export interface Op {
  task: TaskName;
  change?: Change;
  header: string[];
  body?: Buffer;
}

const field = (value: string) => lineField(value, 'apply');

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

function bodyBytes(body: FileBody): Buffer {
  // The only place a secret file's value is revealed: into the SSH channel's stdin.
  return Buffer.from('text' in body ? body.text : body.secret.reveal(), 'utf8');
}

function toOp(task: TaskName, change: Change): Op {
  const op = (header: string[], body?: Buffer): Op => ({
    task,
    change,
    header: header.map(field),
    ...(body ? { body } : {}),
  });
  switch (change.kind) {
    case 'group-create':
      return op(['group', change.name]);
    case 'user-create':
      return op(['user', change.name, change.group, change.home, change.shell]);
    case 'dir':
      return op([
        'dir',
        change.path,
        octal(change.attrs.mode),
        change.attrs.user,
        change.attrs.group,
      ]);
    case 'file': {
      const body = bodyBytes(change.body);
      return op(
        [
          'write',
          change.path,
          octal(change.attrs.mode),
          change.attrs.user,
          change.attrs.group,
          String(body.length),
        ],
        body,
      );
    }
    case 'attrs':
      return op([
        'attrs',
        change.path,
        octal(change.attrs.mode),
        change.attrs.user,
        change.attrs.group,
      ]);
    case 'symlink':
      return op(['symlink', change.path, change.target]);
    case 'remove':
      return op(['remove', change.path]);
    case 'restart-pending': {
      if (change.action === 'clear') return op(['remove', change.path]);
      const body = Buffer.from('hermes-agent.service must restart (hermes-fleet)\n', 'utf8');
      return op(['write', change.path, '0600', 'root', 'root', String(body.length)], body);
    }
    case 'systemd':
      return op(['systemctl', change.action, change.action === 'daemon-reload' ? '' : change.unit]);
    case 'container-remove':
      return op(['container-rm', change.backend, change.name]);
    case 'wait-healthy': {
      const body = Buffer.from(change.command ?? '', 'utf8');
      // `-` fills the unused field: tab is IFS white space, so `read` would merge an empty
      // field into its neighbour and the command's length would land in the wrong variable.
      return op(
        ['wait', change.unit, String(change.seconds), change.user, '-', String(body.length)],
        body.length > 0 ? body : undefined,
      );
    }
  }
}

/** Every change of every plan, in task order, as operations; each task opens with a marker. */
export function planOps(plans: readonly TaskPlan[]): Op[] {
  return plans.flatMap((plan) =>
    plan.changes.length === 0
      ? []
      : [
          { task: plan.task, header: ['task', plan.task] },
          ...plan.changes.map((change) => toOp(plan.task, change)),
        ],
  );
}

/** The apply batch's stdin: header lines, each file's bytes right after its header. */
export function encodeOps(ops: readonly Op[]): Buffer {
  const parts: Buffer[] = [];
  ops.forEach((op, index) => {
    parts.push(Buffer.from(`${index}\t${op.header.join('\t')}\n`, 'utf8'));
    if (op.body) parts.push(op.body);
  });
  return Buffer.concat(parts);
}

/** What -vv shows of an operation: its header, never a body (a body may be a secret). */
export function opSummary(op: Op): string {
  const [name, ...args] = op.header;
  // Not even a secret's length is shown: it narrows down what the value can be.
  const secret = op.change?.kind === 'file' && 'secret' in op.change.body;
  const body = secret ? '<secret on stdin>' : `<${op.body?.length ?? 0} bytes on stdin>`;
  const shown = op.body ? [...args.slice(0, -1), body] : args;
  return [name, ...shown].join(' ');
}
