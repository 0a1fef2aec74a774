import { namedLine } from '../exec/line-field.js';
import type { StdinPart } from '../exec/write-stdin.js';
import { isDownload } from '../inventory/types.js';
import type { Change, ChangeOf, TaskName, TaskPlan } from '../plan/types.js';
import { recordOf, type Encoded, type RecordContext } from '../changes/index.js';

export type { RecordContext } from '../changes/index.js';

/**
 * One operation of the apply batch, with the task it belongs to. Its name is the kind of the
 * change it carries out (apply.sh has one `case` for each); a task's operations are preceded by
 * a `task` marker (no change), where an interrupted batch may stop.
 */
export interface Op {
  task: TaskName;
  /** The index of its plan in the plans (absent for the batch's own, the lock). */
  plan?: number;
  /** The instance its plan is for (`instances:`). */
  instance?: string;
  change?: Change;
  name: string;
  fields: Encoded['fields'];
  body?: Encoded['body'];
  upload?: Encoded['upload'];
}

/**
 * The fields that arm the rollback: what each change puts at stake is kept first (`undo`, as its
 * record in src/changes declares), and a failure of the restart or of its health check
 * (`rollback=1`) puts it all back.
 */
function rollbackFields(change: Change): Op['fields'] {
  const { undo, restarts } = recordOf(change);
  if (restarts(change)) return { rollback: '1' };
  return undo === 'none' ? {} : { undo };
}

function toOp(
  task: TaskName,
  change: Change,
  rollback: boolean,
  context: RecordContext | undefined,
): Op {
  const { fields, body, upload } = recordOf(change).encode(change, context);
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
  return !noRollback && healthCheck(plans, true) !== undefined;
}

/**
 * The plans' health check whose `rollback` is `rollback`: with `true`, the one that arms the
 * rollback (the host had a gateway before this run, and it names the generation it was on);
 * with `false`, a first deploy's, which has nothing to go back to.
 */
export function healthCheck(
  plans: readonly TaskPlan[],
  rollback: boolean,
): ChangeOf<'wait-healthy'> | undefined {
  for (const change of plans.flatMap((plan) => plan.changes)) {
    if (change.kind === 'wait-healthy' && change.rollback === rollback) return change;
  }
  return undefined;
}

/** The plans of one instance (all of them for `hermes:` alone): a rollback's reach. */
export function instancePlans(
  plans: readonly TaskPlan[],
  instance: string | undefined,
): TaskPlan[] {
  return plans.filter((plan) => plan.instance === instance);
}

/**
 * Every change of every plan, in task order, as operations; each task opens with a marker. With
 * instances, the marker names the instance too: apply.sh keeps what each instance's changes
 * replaced apart, so a failed health check puts back that instance's changes alone, and whether
 * it rolls back at all is that instance's (a first deploy of one has nothing to go back to).
 */
export function planOps(
  plans: readonly TaskPlan[],
  options: { noRollback?: boolean; record?: RecordContext } = {},
): Op[] {
  const rollback = new Map<string | undefined, boolean>();
  for (const instance of new Set(plans.map((plan) => plan.instance))) {
    rollback.set(instance, rollsBack(instancePlans(plans, instance), options.noRollback));
  }
  return plans.flatMap((plan, index) => {
    if (plan.changes.length === 0) return [];
    const mine = { task: plan.task, plan: index, ...instanceOf(plan) };
    const rolls = rollback.get(plan.instance) === true;
    return [
      { ...mine, name: 'task', fields: { name: plan.task, instance: plan.instance } },
      ...plan.changes.map((change) => ({
        ...toOp(plan.task, change, rolls, options.record),
        ...mine,
      })),
    ];
  });
}

function instanceOf(plan: TaskPlan): { instance?: string } {
  return plan.instance === undefined ? {} : { instance: plan.instance };
}

/**
 * The apply batch's stdin: header lines, each body right after its header, as parts written in
 * order (an upload is its file, read as it is sent). Rejects when an upload cannot be sent (a
 * release archive that changed during the run).
 */
export async function encodeOps(ops: readonly Op[]): Promise<StdinPart[]> {
  const parts: StdinPart[] = [];
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
  // A release URL as the reports show it: its user, password and query may be a credential.
  const url =
    op.change?.kind === 'release-unpack' && isDownload(op.change.archive)
      ? op.change.archive.written
      : undefined;
  const shown = Object.entries(op.fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'size')
    .map(([key, value]) => `${key}=${key === 'url' && url !== undefined ? url : value}`);
  if (op.body) shown.push(secret ? '<secret on stdin>' : `<${op.body.length} bytes on stdin>`);
  if (op.upload) shown.push(`<${op.upload.size} bytes on stdin>`);
  return [op.name, ...shown].join(' ');
}
