import { lineField } from '../exec/line-field.js';
import { never, noDiff, noFields, type ChangeRecords, type RecordContext } from './record.js';

/*
 * Generations (src/apply/ops/generations.sh): what the gateway read, kept after each healthy
 * change, and put back by `hermes-fleet rollback`.
 */

/** A file a generation keeps a copy of: its name there, where it is, who reads it. */
export interface GenerationFile {
  /** `unit`, `config.yaml`, `.env`, `auth.json`, `documents/SOUL.md`. */
  name: string;
  path: string;
  /** The account that reads it (the path is in its tree); root reads the others. */
  as?: string;
  /** Its differences are shown by name only. */
  secret?: boolean;
}

export type GenerationChange =
  /**
   * After a healthy (re)start: the files the gateway reads, as deployed, copied into a new
   * generation under `path` (root's, 0700; numbered from 1, `current` names the newest), with
   * their modes, owners and hashes, the release `releaseLink` points to, and who recorded it;
   * all but the newest `keep` generations are removed.
   */
  | {
      kind: 'generation';
      path: string;
      keep: number;
      files: GenerationFile[];
      releaseLink?: string;
    }
  /**
   * Puts generation `number` (absent: the newest one below the current) back: each file it kept
   * written to its path as a `file` change would, by the same actor, and one it found absent
   * removed. The unit's reload, restart and health check follow as separate changes.
   */
  | { kind: 'generation-restore'; path: string; number?: number; unit: string };

/** One value of a generation's body line: tabs and newlines would split it. */
function bodyValue(value: string): string {
  return value.replace(/[\t\n\r]/g, '?');
}

/**
 * A generation's body, one line each: `meta<TAB>key=value` (who, version, inventory),
 * `file<TAB>name<TAB>path<TAB>account<TAB>secret`, `link<TAB>path` (the release link).
 */
function generationBody(
  change: Extract<GenerationChange, { kind: 'generation' }>,
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

export const GENERATION_CHANGES: ChangeRecords<GenerationChange> = {
  generation: {
    doc: 'a healthy change recorded on the host',
    example: { kind: 'generation', path: '/g', keep: 5, files: [{ name: 'unit', path: '/u' }] },
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
    describe: (change) =>
      `record a generation in ${change.path} (${change.files.map((f) => f.name).join(', ')}; keep ${change.keep})`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'generation-restore': {
    doc: "`hermes-fleet rollback` puts a generation's files back",
    example: { kind: 'generation-restore', path: '/g', unit: 'u.service' },
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
    describe: (change) =>
      change.number === undefined
        ? `restore the generation before the current one (${change.path})`
        : `restore generation ${change.number} (${change.path})`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
};
