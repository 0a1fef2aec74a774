import { describe, expect, it } from 'vitest';
import { PlanError } from '../src/plan/types.js';
import { docsTask } from './docs.js';
import { renderOwned } from './lib/fleet-owned.js';
import { restartReasons } from './lib/restart-reasons.js';
import {
  ABSENT,
  converge,
  file,
  freshFacts,
  makeFacts,
  planAll,
  symlink,
} from '../test/utils/facts.js';
import type { FactsInput } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';

const D640 = { mode: 0o640, user: 'hermes', group: 'hermes' };
const SOUL = '/var/lib/hermes/workspace/SOUL.md';
const USER = '/var/lib/hermes/workspace/USER.md';
const OWNED_DOCS = '/var/lib/hermes/.hermes/.fleet-owned-documents.json';
const host = makeHost({ documents: { 'SOUL.md': 'You are helpful.', 'USER.md': 'Ada\n' } });
const plan = (paths: NonNullable<FactsInput['paths']>, h = host) =>
  docsTask.plan(h, makeFacts({ host: h, tasks: [docsTask], paths }), []);

describe('docs', () => {
  it('requests each document with its text', () => {
    expect(docsTask.facts(host)).toEqual([
      { kind: 'path', path: SOUL, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      { kind: 'path', path: USER, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      { kind: 'path', path: OWNED_DOCS, content: true, as: 'hermes', tree: '/var/lib/hermes' },
    ]);
  });

  it('writes each absent document exactly as given', () => {
    expect(plan({})).toEqual([
      {
        kind: 'file',
        path: SOUL,
        body: { text: 'You are helpful.' },
        attrs: D640,
        before: ABSENT,
        as: 'hermes',
      },
      {
        kind: 'file',
        path: USER,
        body: { text: 'Ada\n' },
        attrs: D640,
        before: ABSENT,
        as: 'hermes',
      },
    ]);
  });

  it('rewrites a changed document, fixes a drifted mode, leaves a synced one', () => {
    const soul = file('old', D640);
    const user = file('Ada\n', { ...D640, mode: 0o600 });
    expect(plan({ [SOUL]: soul, [USER]: user })).toEqual([
      {
        kind: 'file',
        path: SOUL,
        body: { text: 'You are helpful.' },
        attrs: D640,
        before: soul,
        as: 'hermes',
      },
      { kind: 'attrs', path: USER, attrs: D640, before: user, as: 'hermes' },
    ]);
    expect(plan({ [SOUL]: file('You are helpful.', D640), [USER]: file('Ada\n', D640) })).toEqual(
      [],
    );
  });

  it('never asks about (or deletes) documents the fleet did not install', () => {
    // Only its record of what it installed is read; with no record, nothing is removed.
    expect(docsTask.facts(makeHost())).toEqual([
      { kind: 'path', path: OWNED_DOCS, content: true, as: 'hermes', tree: '/var/lib/hermes' },
    ]);
    expect(plan({}, makeHost())).toEqual([]);
  });

  it('refuses a name that would leave workingDirectory', () => {
    const bad = makeHost({ documents: { '../escape': 'x' } });
    expect(() => plan({}, bad)).toThrow(PlanError);
  });
});

describe('nested documents', () => {
  const HOME = '/var/lib/hermes/.hermes';
  const nested = makeHost({
    documents: {
      '.hermes/SOUL.md': 'soul\n',
      '.hermes/memories/USER.md': 'user\n',
      'notes/deep/A.md': 'a\n',
    },
  });

  it('puts a key with a directory below stateDir, making its missing directories as the account', () => {
    const changes = plan({}, nested);
    const made = changes.filter((c) => c.kind === 'dir').map((c) => [c.path, c]);
    expect(made.map(([path]) => path)).toEqual([
      '/var/lib/hermes/notes',
      '/var/lib/hermes/notes/deep',
    ]);
    for (const change of changes) expect(change).toMatchObject({ as: 'hermes' });
    expect(changes.filter((c) => c.kind === 'file').map((c) => c.path)).toEqual([
      `${HOME}/SOUL.md`,
      `${HOME}/memories/USER.md`,
      '/var/lib/hermes/notes/deep/A.md',
    ]);
    // HERMES_HOME and memories are the dirs task's; the docs task reads only its own.
    expect(docsTask.facts(nested).slice(0, 2)).toEqual([
      { kind: 'path', path: '/var/lib/hermes/notes', as: 'hermes' },
      { kind: 'path', path: '/var/lib/hermes/notes/deep', as: 'hermes' },
    ]);
  });

  it('converges, and a second plan is empty', () => {
    const facts = converge(nested, freshFacts(nested));
    expect(planAll(nested, facts).flatMap((p) => p.changes)).toEqual([]);
  });

  it('refuses to write below a directory that is a link', () => {
    expect(() => plan({ '/var/lib/hermes/notes': symlink('/etc') }, nested)).toThrow(
      /\/var\/lib\/hermes\/notes is a symbolic link to \/etc/,
    );
  });

  it('removes a dropped nested document, and its change restarts the gateway', () => {
    const record = file(renderOwned({ documents: ['.hermes/SOUL.md', '.hermes/OLD.md'] }), {
      mode: 0o600,
      user: 'hermes',
      group: 'hermes',
    });
    const h = makeHost({ documents: { '.hermes/SOUL.md': 'soul\n' } });
    const changes = plan({ [OWNED_DOCS]: record, [`${HOME}/SOUL.md`]: file('soul\n', D640) }, h);
    expect(changes).toEqual([
      {
        kind: 'remove',
        path: `${HOME}/OLD.md`,
        before: ABSENT,
        why: 'no longer in the inventory',
        as: 'hermes',
      },
    ]);
    expect(restartReasons(h.hermes, [{ task: 'docs', changes }])).toEqual(['OLD.md removed']);
  });

  it('removes nothing the fleet manages otherwise, whatever its record on the host says', () => {
    // The record sits in the account's tree: edited there, it names .env and config.yaml.
    const record = file(renderOwned({ documents: ['.hermes/.env', '.hermes/config.yaml'] }), {
      mode: 0o600,
      user: 'hermes',
      group: 'hermes',
    });
    expect(plan({ [OWNED_DOCS]: record }, makeHost())).toEqual([]);
  });
});
