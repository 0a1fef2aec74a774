import { z } from 'zod';

/*
 * The JSON report's fields of a change beyond its kind and summary (docs/report-schema.md): where
 * it acts and what each kind adds. src/report/json-schema.ts puts them into the report's schema;
 * the change records (./record.ts) build them, typed by it.
 */

const attrChange = z.strictObject({
  before: z
    .string()
    .nullable()
    .describe('Before the change; null when the path did not exist (or was another kind)'),
  after: z.string(),
});

/** Where a change acts. */
export const changeWhere = {
  path: z.string().optional().describe('The path on the host, for path changes'),
  unit: z.string().optional().describe('The systemd unit, for systemd and wait-healthy'),
  action: z
    .enum(['daemon-reload', 'enable', 'disable', 'start', 'stop', 'restart'])
    .optional()
    .describe('The systemctl action, for systemd changes'),
};

/** What the kinds add; each kind's record says which of these it sets. */
export const changeDetail = {
  release: z
    .strictObject({
      id: z.string().describe('The release id (16 hex digits of the archive sha256)'),
      from: z
        .string()
        .nullable()
        .optional()
        .describe('release-switch: the release current pointed at; null on a first install'),
      bytes: z.int().min(0).optional().describe('release-unpack: the bytes uploaded'),
      url: z
        .string()
        .optional()
        .describe(
          'release-unpack by hermes.release.url: where the host downloads it (no user, password or query)',
        ),
    })
    .optional()
    .describe('For release-unpack, release-switch and release-remove'),
  image: z
    .strictObject({
      id: z.string().describe('The image id, `sha256:<hex>` of its config blob'),
      archive: z.string().describe('container.imageArchive, as the inventory writes it'),
      bytes: z.int().min(0).describe('The bytes uploaded'),
    })
    .optional()
    .describe('For image-load'),
  removes: z
    .array(z.string())
    .optional()
    .describe(
      'Keys this write takes out of the file because the inventory no longer has them (the fleet set them before): names only',
    ),
  mode: attrChange.optional().describe('Permission bits as 4 octal digits, when they change'),
  owner: attrChange.optional().describe('`user:group`, when it changes'),
  diff: z.string().optional().describe('Unified diff of a non-secret text file (only with --diff)'),
  secret: z
    .literal(true)
    .optional()
    .describe('The file holds secrets: no content, at most key names'),
  keys: z
    .strictObject({
      added: z.array(z.string()),
      removed: z.array(z.string()),
      changed: z.array(z.string()),
    })
    .optional()
    .describe(
      'For a secret file: names of the top-level keys added, removed or changed. Absent when the file could not be parsed safely (then only `secret: true` says it changed)',
    ),
};

/** What a change's record gives the JSON report: its fields beyond kind, summary and path. */
export type JsonFields = Omit<
  z.infer<z.ZodObject<typeof changeWhere & typeof changeDetail>>,
  'path'
>;
