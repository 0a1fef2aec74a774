import { ACCOUNT_CHANGES, type AccountChange } from './accounts.js';
import { CONTAINER_CHANGES, type ContainerChange } from './container.js';
import { PATH_CHANGES, type PathChange } from './files.js';
import { GENERATION_CHANGES, type GenerationChange } from './generations.js';
import type { ChangeRecord } from './record.js';
import { RELEASE_CHANGES, type ReleaseChange } from './release.js';
import { SERVICE_CHANGES, type ServiceChange } from './service.js';

/*
 * The change kinds, joined from their families. A task plans `Change`s (plain data, computed
 * from the host's facts); the apply step carries each out by the operation of the same name
 * (src/apply/ops/*.sh), and the reports show it: both read the kind's one record here.
 */

/** One thing a run would do on a host. A task in sync plans no change. */
export type Change =
  AccountChange | PathChange | ServiceChange | ReleaseChange | ContainerChange | GenerationChange;

export type ChangeKind = Change['kind'];

/** The change of one kind (or of several). */
export type ChangeOf<K extends ChangeKind> = Extract<Change, { kind: K }>;

/** Every kind's record; a family that leaves one out fails to compile, and so does this. */
export const CHANGE_RECORDS: { [K in ChangeKind]: ChangeRecord<ChangeOf<K>> } = {
  ...ACCOUNT_CHANGES,
  ...PATH_CHANGES,
  ...SERVICE_CHANGES,
  ...RELEASE_CHANGES,
  ...CONTAINER_CHANGES,
  ...GENERATION_CHANGES,
};

/** A change's record. */
export function recordOf<K extends ChangeKind>(change: ChangeOf<K>): ChangeRecord<ChangeOf<K>> {
  return CHANGE_RECORDS[change.kind];
}

/**
 * Every change kind, in the records' order, for what needs them as values (the JSON report's
 * schema, the test that apply.sh has an operation for each).
 */
export const CHANGE_KINDS = Object.keys(CHANGE_RECORDS) as [ChangeKind, ...ChangeKind[]];

export type { GenerationFile } from './generations.js';
export type {
  Actor,
  ChangeRecord,
  DiffContext,
  Encoded,
  FileBody,
  Forgotten,
  RecordContext,
} from './record.js';
