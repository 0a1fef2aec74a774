import { describe, expect, it } from 'vitest';
import type { FactRequest } from '../src/facts/types.js';
import { PlanError } from '../src/plan/types.js';
import { dirsTask, managedDirs } from './dirs.js';
import { ABSENT, HERMES_750, dir, file, makeFacts, symlink } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';

const host = makeHost();
const ALL = [
  '/var/lib/hermes',
  '/var/lib/hermes/.hermes',
  '/var/lib/hermes/home',
  '/var/lib/hermes/workspace',
  '/var/lib/hermes/.hermes/cron',
  '/var/lib/hermes/.hermes/sessions',
  '/var/lib/hermes/.hermes/logs',
  '/var/lib/hermes/.hermes/memories',
  '/var/lib/hermes/.hermes/plugins',
];
const STATE = '/var/lib/hermes';
/** stateDir is made by root (its parent is root's); everything below it by the account. */
const by = (path: string) => (path === STATE ? { tree: STATE } : { as: 'hermes' });
const synced = () => makeFacts({ host, paths: Object.fromEntries(ALL.map((p) => [p, dir()])) });

describe('dirs', () => {
  it('manages the module directories and the HERMES_HOME ones, parents first', () => {
    expect(managedDirs(host.hermes)).toEqual(ALL);
    // Read as the account below stateDir (whose parent is root's), with any temporary files a
    // killed run left there.
    expect(dirsTask.facts(host)).toEqual(
      ALL.flatMap((path): FactRequest[] =>
        path === STATE
          ? [
              { kind: 'path', path },
              { kind: 'temp-files', dir: path, as: 'hermes' },
            ]
          : [
              { kind: 'path', path, as: 'hermes' },
              { kind: 'temp-files', dir: path, as: 'hermes' },
            ],
      ),
    );
  });

  it('creates every directory on a fresh host, owned hermes:hermes 0750 (no uid needed)', () => {
    expect(dirsTask.plan(host, makeFacts({ host }), [])).toEqual(
      ALL.map((path) => ({ kind: 'dir', path, attrs: HERMES_750, before: ABSENT, ...by(path) })),
    );
  });

  it('is in sync when all exist with the right mode and owner', () => {
    expect(dirsTask.plan(host, synced(), [])).toEqual([]);
  });

  it('fixes drifted modes and owners only where they drifted', () => {
    const facts = synced();
    const logs = dir({ mode: 0o700, user: 'hermes', group: 'hermes' });
    const state = dir({ mode: 0o750, user: 'root', group: 'hermes' });
    facts.paths.set('/var/lib/hermes/.hermes/logs', logs);
    facts.paths.set('/var/lib/hermes', state);
    expect(dirsTask.plan(host, facts, [])).toEqual([
      { kind: 'dir', path: '/var/lib/hermes', attrs: HERMES_750, before: state, tree: STATE },
      {
        kind: 'dir',
        path: '/var/lib/hermes/.hermes/logs',
        attrs: HERMES_750,
        before: logs,
        as: 'hermes',
      },
    ]);
  });

  it('manages setuid/sticky bits too', () => {
    const facts = synced();
    facts.paths.set('/var/lib/hermes/home', dir({ mode: 0o2750, user: 'hermes', group: 'hermes' }));
    expect(dirsTask.plan(host, facts, [])).toHaveLength(1);
  });

  it('refuses a path that exists and is not a directory', () => {
    const facts = synced();
    facts.paths.set('/var/lib/hermes/.hermes/cron', file('x', HERMES_750));
    expect(() => dirsTask.plan(host, facts, [])).toThrow(PlanError);
    expect(() => dirsTask.plan(host, facts, [])).toThrow(
      /\/var\/lib\/hermes\/\.hermes\/cron is a regular file/,
    );
    facts.paths.set('/var/lib/hermes/.hermes/cron', symlink('/elsewhere'));
    expect(() => dirsTask.plan(host, facts, [])).toThrow(/symbolic link to \/elsewhere/);
  });

  it('orders a workingDirectory elsewhere by depth and lists a shared path once', () => {
    const elsewhere = makeHost({ workingDirectory: '/srv/a/b/c/d/work' });
    const dirs = managedDirs(elsewhere.hermes);
    expect(dirs.at(-1)).toBe('/srv/a/b/c/d/work');
    expect(dirs.indexOf('/var/lib/hermes')).toBe(0);
    const shared = makeHost({ workingDirectory: '/var/lib/hermes/home/' });
    expect(managedDirs(shared.hermes)).toHaveLength(8);
  });
});

describe('dirs with shared state (addToSystemPackages)', () => {
  it('makes the module’s setgid, group-writable directories, home kept 0750', () => {
    const shared = makeHost({ addToSystemPackages: true });
    const changes = dirsTask.plan(shared, makeFacts({ host: shared, tasks: [dirsTask] }), []);
    const modes = Object.fromEntries(
      changes.flatMap((c) => (c.kind === 'dir' ? [[c.path, c.attrs.mode]] : [])),
    );
    expect(modes['/var/lib/hermes']).toBe(0o2770);
    expect(modes['/var/lib/hermes/.hermes/sessions']).toBe(0o2770);
    expect(modes['/var/lib/hermes/workspace']).toBe(0o2770);
    expect(modes['/var/lib/hermes/home']).toBe(0o750);
  });
});
