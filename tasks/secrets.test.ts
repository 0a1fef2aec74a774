import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { HermesSettings } from '../src/inventory/types.js';
import type { Change } from '../src/plan/types.js';
import { PlanError } from '../src/plan/types.js';
import { Secret, isSecret } from '../src/secret.js';
import { ABSENT, bare, dir, file, makeFacts, symlink } from '../test/utils/facts.js';
import type { FactsInput } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { secretsTask } from './secrets.js';

const ENV = '/var/lib/hermes/.hermes/.env';
const AUTH = '/var/lib/hermes/.hermes/auth.json';
const OWNED_ENV = '/var/lib/hermes/.hermes/.fleet-owned-env.json';
const S600 = { mode: 0o600, user: 'hermes', group: 'hermes' };
const secret = (v: string) => new Secret(v, 'test');

function planFor(
  hermes: Partial<HermesSettings>,
  paths: NonNullable<FactsInput['paths']> = {},
): Change[] {
  const host = makeHost(hermes);
  return secretsTask.plan(host, makeFacts({ host, tasks: [secretsTask], paths }), []);
}

function envText(change: Change | undefined): string {
  if (change?.kind !== 'file' || !('secret' in change.body))
    throw new Error('expected a secret write');
  return change.body.secret.reveal();
}

describe('secrets: .env', () => {
  const hermes: Partial<HermesSettings> = {
    environment: { HERMES_LOG_LEVEL: 'info', B_FIRST: 'b' },
    secrets: { OPENROUTER_API_KEY: secret("sk-it's"), TOKEN: secret('t0k') },
    environmentFiles: ['/run/secrets/a.env', '/run/secrets/missing.env', '/run/secrets/b.env'],
  };
  const files = {
    '/run/secrets/a.env': file(secret('FROM_A=1\n'), S600),
    '/run/secrets/b.env': file(secret('FROM_B=2'), S600),
  };

  it('requests .env and every environment file as secrets', () => {
    expect(secretsTask.facts(makeHost(hermes))).toEqual([
      {
        kind: 'path',
        path: ENV,
        content: true,
        secret: true,
        as: 'hermes',
        tree: '/var/lib/hermes',
      },
      { kind: 'path', path: OWNED_ENV, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      ...(hermes.environmentFiles ?? []).map((path) => ({
        kind: 'path',
        path,
        content: true,
        secret: true,
        // Root-chosen paths, often links (sops-nix): followed, as the module's `[ -f f ]`.
        follow: true,
      })),
    ]);
  });

  it('writes environment, then secrets, then each present environment file after a blank line', () => {
    const changes = planFor(hermes, files);
    expect(changes).toHaveLength(1);
    expect(envText(changes[0])).toBe(
      [
        "HERMES_LOG_LEVEL='info'",
        "B_FIRST='b'",
        'OPENROUTER_API_KEY="sk-it\'s"',
        "TOKEN='t0k'",
        '',
        'FROM_A=1',
        '',
        'FROM_B=2',
      ].join('\n'),
    );
    expect(changes[0]).toMatchObject({
      kind: 'file',
      path: ENV,
      attrs: S600,
      before: ABSENT,
      as: 'hermes',
    });
  });

  it('carries the whole .env as a Secret that never renders its values', () => {
    const change = planFor(hermes, files)[0];
    if (change?.kind !== 'file' || !('secret' in change.body)) throw new Error('expected a secret');
    expect(isSecret(change.body.secret)).toBe(true);
    const rendered =
      JSON.stringify(change) + inspect(change, { depth: 10 }) + String(change.body.secret);
    for (const value of ['info', "sk-it's", 't0k', 'FROM_A']) expect(rendered).not.toContain(value);
  });

  it('is in sync when the host file holds the same bytes; fixes only mode when that drifted', () => {
    const want = envText(planFor(hermes, files)[0]);
    expect(planFor(hermes, { ...files, [ENV]: file(secret(want), S600) })).toEqual([]);
    const drifted = file(secret(want), { ...S600, mode: 0o644 });
    expect(planFor(hermes, { ...files, [ENV]: drifted })).toEqual([
      { kind: 'attrs', path: ENV, attrs: S600, before: drifted, as: 'hermes' },
    ]);
  });

  it('rewrites when a value changed', () => {
    const old = file(secret("HERMES_LOG_LEVEL='debug'\n"), S600);
    expect(planFor({ environment: { HERMES_LOG_LEVEL: 'info' } }, { [ENV]: old })).toMatchObject([
      { kind: 'file', path: ENV, before: old, as: 'hermes' },
    ]);
  });

  it('leaves an existing .env alone when nothing is declared (and the fleet wrote no key)', () => {
    // .env and the record of the keys the fleet wrote are read all the same: a key it wrote
    // must go even when the inventory now has none.
    expect(secretsTask.facts(makeHost())).toEqual([
      {
        kind: 'path',
        path: ENV,
        content: true,
        secret: true,
        as: 'hermes',
        tree: '/var/lib/hermes',
      },
      { kind: 'path', path: OWNED_ENV, content: true, as: 'hermes', tree: '/var/lib/hermes' },
    ]);
    expect(planFor({}, {})).toEqual([]);
  });

  it('skips environment files that are absent or not files, refuses an unfollowed link', () => {
    // A link fact reaches the plan only when another task reads the same path unfollowed.
    expect(envText(planFor({ environmentFiles: ['/x', '/d'] }, { '/d': dir() })[0])).toBe('');
    expect(() => planFor({ environmentFiles: ['/l'] }, { '/l': symlink('/run/real') })).toThrow(
      /\/l is a symbolic link to \/run\/real/,
    );
  });

  it('refuses a value python-dotenv cannot read back, without printing it', () => {
    const attempt = () => planFor({ secrets: { KEY: secret('a${HOME}b-hidden') } });
    expect(attempt).toThrow(PlanError);
    expect(attempt).toThrow(/^secrets\.KEY: /);
    expect(attempt).not.toThrow(/hidden/);
  });
});

describe('secrets: auth.json', () => {
  const auth = secret('{"token":"new"}');

  it('seeds auth.json when absent, mode 0600', () => {
    expect(planFor({ authFile: auth })).toEqual([
      {
        kind: 'file',
        path: AUTH,
        body: { secret: auth },
        attrs: S600,
        before: ABSENT,
        as: 'hermes',
      },
    ]);
  });

  it('keeps an existing auth.json without force, only fixing its mode', () => {
    expect(secretsTask.facts(makeHost({ authFile: auth }))).toEqual([
      {
        kind: 'path',
        path: ENV,
        content: true,
        secret: true,
        as: 'hermes',
        tree: '/var/lib/hermes',
      },
      { kind: 'path', path: OWNED_ENV, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      { kind: 'path', path: AUTH, as: 'hermes' },
    ]);
    expect(planFor({ authFile: auth }, { [AUTH]: bare(S600) })).toEqual([]);
    const loose = bare({ ...S600, mode: 0o644 });
    expect(planFor({ authFile: auth }, { [AUTH]: loose })).toEqual([
      { kind: 'attrs', path: AUTH, attrs: S600, before: loose, as: 'hermes' },
    ]);
  });

  it('overwrites when forced and the content differs, not when it is the same', () => {
    const hermes = { authFile: auth, authFileForceOverwrite: true };
    expect(secretsTask.facts(makeHost(hermes))).toEqual([
      {
        kind: 'path',
        path: ENV,
        content: true,
        secret: true,
        as: 'hermes',
        tree: '/var/lib/hermes',
      },
      { kind: 'path', path: OWNED_ENV, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      {
        kind: 'path',
        path: AUTH,
        content: true,
        secret: true,
        as: 'hermes',
        tree: '/var/lib/hermes',
      },
    ]);
    const old = file(secret('{"token":"old"}'), S600);
    expect(planFor(hermes, { [AUTH]: old })).toEqual([
      { kind: 'file', path: AUTH, body: { secret: auth }, attrs: S600, before: old, as: 'hermes' },
    ]);
    expect(planFor(hermes, { [AUTH]: file(secret('{"token":"new"}'), S600) })).toEqual([]);
  });
});
