import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS, CHANGE_RECORDS, type ChangeKind, type ChangeOf } from '../changes/index.js';
import { describeChange, renderChangeDiff } from './change-kinds.js';
import { reportChangeSchema } from './json-schema.js';
import { reportChange } from './json.js';

/** One change of each kind: each record's example. */
const SAMPLES = Object.fromEntries(
  CHANGE_KINDS.map((kind) => [kind, CHANGE_RECORDS[kind].example]),
) as { [K in ChangeKind]: ChangeOf<K> };
const RELEASE = SAMPLES['release-unpack'].archive;
const IMAGE = SAMPLES['image-load'].archive;

describe('the change kinds as reports show them', () => {
  it('each have an example of their own kind', () => {
    for (const kind of CHANGE_KINDS) expect(SAMPLES[kind].kind).toBe(kind);
  });

  it('each have one line for people and a JSON entry the schema accepts', () => {
    for (const change of Object.values(SAMPLES)) {
      const line = describeChange(change);
      expect(line, change.kind).toMatch(/^\S[^\n]*$/);
      const json = reportChange('web01', change, { diff: true });
      expect(reportChangeSchema.parse(json), change.kind).toEqual(json);
      expect(json).toMatchObject({ kind: change.kind, summary: line });
      expect(json.path).toBe('path' in change ? change.path : undefined);
    }
  });

  it('give each kind its own JSON fields', () => {
    // What the kind adds to kind, summary and path.
    const fields = (kind: ChangeKind) =>
      Object.fromEntries(
        Object.entries(reportChange('web01', SAMPLES[kind], { diff: false })).filter(
          ([key]) => !['kind', 'summary', 'path'].includes(key),
        ),
      );
    expect(fields('systemd')).toEqual({ unit: 'u.service', action: 'restart' });
    expect(fields('wait-healthy')).toEqual({ unit: 'u.service' });
    expect(fields('release-unpack')).toEqual({ release: { id: RELEASE.id, bytes: 2_000_000 } });
    expect(fields('release-switch')).toEqual({ release: { id: RELEASE.id, from: null } });
    expect(fields('release-remove')).toEqual({ release: { id: 'old' } });
    expect(fields('image-load')).toEqual({
      image: { id: IMAGE.id, archive: 'images/i.tar', bytes: 3_000_000 },
    });
    expect(fields('dir')).toEqual({
      mode: { before: null, after: '0644' },
      owner: { before: null, after: 'root:root' },
    });
    expect(fields('group-create')).toEqual({});
  });

  it('count as drift in a check, but for the pending-restart note', () => {
    const notDrift = CHANGE_KINDS.filter((kind) => !CHANGE_RECORDS[kind].drift);
    expect(notDrift).toEqual(['restart-pending']);
  });

  it('show in --diff what their kind has to show', () => {
    const plain = { color: false };
    expect(renderChangeDiff('web01', SAMPLES.remove, plain)).toBe(
      'web01:/r: removed (no longer in the inventory)',
    );
    expect(renderChangeDiff('web01', SAMPLES['release-switch'], plain)).toBe(
      `web01:/opt/current: switch current: (none) -> ${RELEASE.id}`,
    );
    expect(renderChangeDiff('web01', SAMPLES['group-create'], plain)).toBeUndefined();
  });
});
