import { z } from 'zod';
import { CHANGE_KINDS } from '../changes/index.js';
import { changeDetail, changeWhere } from '../changes/json-fields.js';
import { REPORTED_TASK_NAMES } from '../../tasks/index.js';

/**
 * The shape of `--json` output, version 1. Names are stable: a field is only ever added, and a
 * change of meaning gets a new `version`. docs/report-schema.md shows the JSON Schema made
 * from it (a test keeps the two equal).
 */

const count = z.int().nonnegative();
const milliseconds = z.number().nonnegative().describe('Milliseconds');

export const reportChangeSchema = z
  .strictObject({
    kind: z.enum(CHANGE_KINDS),
    ...changeWhere,
    summary: z.string().describe('One line for people, e.g. `create directory /x (0750 a:b)`'),
    ...changeDetail,
  })
  .describe('One change a task made (run) or would make (check)');

export const reportTaskSchema = z.strictObject({
  task: z.enum(REPORTED_TASK_NAMES),
  status: z.enum(['ok', 'changed', 'failed', 'skipped']),
  durationMs: milliseconds,
  message: z.string().optional().describe('Why it failed or was skipped'),
  changes: z.array(reportChangeSchema),
});

export const recapStatsSchema = z
  .strictObject({
    ok: count.describe('Tasks that ran: ok plus changed'),
    changed: count,
    unreachable: count,
    failed: count,
    skipped: count,
  })
  .describe("One host's PLAY RECAP line");

export const reportRollbackSchema = z
  .strictObject({
    outcome: z
      .enum(['rolled-back', 'rollback-failed', 'not-rolled-back'])
      .describe(
        'rolled-back: back on the state before this run and healthy; rollback-failed: putting it back or its health check failed too; not-rolled-back: left as the run made it',
      ),
    generation: z
      .number()
      .int()
      .positive()
      .nullable()
      .describe(
        'The generation the host went back to; null: it had none (the state before this run)',
      ),
    reason: z
      .enum(['first-deploy', 'no-rollback'])
      .optional()
      .describe('Why not-rolled-back: nothing before this run, or --no-rollback'),
    cause: z.string().describe('Why the new state failed its restart or health check'),
    message: z.string().optional().describe('Why the rollback failed, for rollback-failed'),
  })
  .describe('The restart or health check after the changes failed: what became of the host');

export const timelinePhaseSchema = z
  .strictObject({
    phase: z
      .enum(['connect', 'read', 'apply', 'restart', 'health', 'rollback'])
      .describe(
        'connect: the SSH connection; read: the facts; apply: the batch; restart and health: its restart and health wait; rollback: the batch putting the host back',
      ),
    startMs: milliseconds.describe('Milliseconds from the start of the run'),
    endMs: milliseconds.describe('Milliseconds from the start of the run'),
  })
  .describe('One phase of a host, as the HTML report draws it');

export const reportHostSchema = z.strictObject({
  host: z.string(),
  status: z.enum(['ok', 'changed', 'failed', 'unreachable', 'skipped']),
  durationMs: milliseconds,
  message: z.string().optional().describe('Failure or unreachable reason'),
  failedTask: z
    .enum(REPORTED_TASK_NAMES)
    .optional()
    .describe('The task the host was in when it failed'),
  rollback: reportRollbackSchema.optional(),
  cutOff: z
    .string()
    .optional()
    .describe("How an earlier run's apply that lost its session ended on the host"),
  lockTakenOver: z
    .string()
    .optional()
    .describe("This run took over the host's lock from a holder that is gone: whose, and why"),
  timeline: z
    .array(timelinePhaseSchema)
    .optional()
    .describe("The host's phases in order, from the start of the run"),
  stats: z
    .strictObject({ roundTrips: count, channels: count, connections: count })
    .describe('SSH traffic: commands awaited, channels opened, TCP connections made'),
  tasks: z.array(reportTaskSchema),
});

export const jsonReportSchema = z
  .strictObject({
    version: z.literal(1),
    mode: z.enum(['run', 'check']),
    startedAt: z
      .string()
      .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/)
      .optional()
      .describe('When the run started, ISO 8601 in UTC'),
    durationMs: milliseconds,
    exitCode: z.int().describe('The exit code of the run (see the CLI contract)'),
    interrupted: z.boolean(),
    recap: z.record(z.string(), recapStatsSchema).describe('Host name → recap counts'),
    hosts: z.array(reportHostSchema),
  })
  .describe('hermes-fleet run report (`run --json`)');

export type JsonReport = z.infer<typeof jsonReportSchema>;
export type ReportHost = z.infer<typeof reportHostSchema>;
export type ReportTask = z.infer<typeof reportTaskSchema>;
export type ReportChange = z.infer<typeof reportChangeSchema>;

/** The JSON Schema (draft 2020-12) of the report. */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(jsonReportSchema);
}
