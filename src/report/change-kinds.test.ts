import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS } from '../apply/change-kinds.js';
import type { ImageArchive, ReleaseArchive } from '../inventory/types.js';
import type { ChangeKind, ChangeOf } from '../plan/types.js';
import { CHANGE_REPORTS, describeChange, renderChangeDiff } from './change-kinds.js';
import { reportChangeSchema } from './json-schema.js';
import { reportChange } from './json.js';

const ROOT = { mode: 0o644, user: 'root', group: 'root' };
const ABSENT = { kind: 'absent' } as const;
const bytes = () => Promise.resolve(Buffer.alloc(0));
const RELEASE: ReleaseArchive = {
  path: '/tmp/r.tar.gz',
  written: 'r.tar.gz',
  sha256: 'ab'.repeat(32),
  id: 'ab'.repeat(8),
  size: 2_000_000,
  format: 'gzip',
  strip: 1,
  bytes,
};
const IMAGE: ImageArchive = {
  path: '/tmp/i.tar',
  written: 'images/i.tar',
  sha256: 'cd'.repeat(32),
  size: 3_000_000,
  id: `sha256:${'ef'.repeat(32)}`,
  bytes,
};

/** One change of each kind: a new kind fails to compile here until it has one. */
const SAMPLES: { [K in ChangeKind]: ChangeOf<K> } = {
  'group-create': { kind: 'group-create', name: 'hermes' },
  'user-create': { kind: 'user-create', name: 'hermes', group: 'hermes', home: '/h', shell: '/s' },
  'group-member': { kind: 'group-member', name: 'ana', group: 'hermes' },
  'set-aside': {
    kind: 'set-aside',
    path: '/home/ana/.hermes',
    target: '/home/ana/.hermes.before-hermes-fleet',
    before: ABSENT,
    as: 'ana',
  },
  'package-install': { kind: 'package-install', names: ['jq', 'ripgrep'] },
  dir: { kind: 'dir', path: '/d', attrs: ROOT, before: ABSENT },
  file: { kind: 'file', path: '/f', body: { text: 'x\n' }, attrs: ROOT, before: ABSENT },
  attrs: { kind: 'attrs', path: '/a', attrs: ROOT, before: ABSENT },
  symlink: { kind: 'symlink', path: '/l', target: '/t', before: ABSENT },
  remove: { kind: 'remove', path: '/r', before: ABSENT, why: 'no longer in the inventory' },
  systemd: { kind: 'systemd', action: 'restart', unit: 'u.service' },
  'wait-healthy': { kind: 'wait-healthy', unit: 'u.service', seconds: 5, user: 'hermes' },
  'restart-pending': { kind: 'restart-pending', action: 'set', path: '/run/p', unit: 'u.service' },
  'container-remove': { kind: 'container-remove', backend: 'docker', name: 'c', reason: 'why' },
  'release-unpack': {
    kind: 'release-unpack',
    path: `/opt/releases/${RELEASE.id}`,
    archive: RELEASE,
  },
  'release-switch': {
    kind: 'release-switch',
    path: '/opt/current',
    target: `releases/${RELEASE.id}`,
    before: ABSENT,
    to: RELEASE.id,
  },
  'release-remove': { kind: 'release-remove', path: '/opt/releases/old', why: 'pruned' },
  'image-load': { kind: 'image-load', backend: 'podman', archive: IMAGE },
  generation: { kind: 'generation', path: '/g', keep: 5, files: [{ name: 'unit', path: '/u' }] },
  'generation-restore': { kind: 'generation-restore', path: '/g', unit: 'u.service' },
};

describe('the change kinds as reports show them', () => {
  it('are the kinds the apply layer knows, in its order', () => {
    expect(Object.keys(SAMPLES)).toEqual([...CHANGE_KINDS]);
    expect(Object.keys(CHANGE_REPORTS)).toEqual([...CHANGE_KINDS]);
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
    const notDrift = CHANGE_KINDS.filter((kind) => !CHANGE_REPORTS[kind].drift);
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
