import { describe, expect, it } from 'vitest';
import { PlanError } from '../src/plan/types.js';
import { docsTask } from './docs.js';
import { ABSENT, file, makeFacts } from '../test/utils/facts.js';
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
