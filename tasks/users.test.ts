import { describe, expect, it } from 'vitest';
import { PlanError } from '../src/plan/types.js';
import type { PathFact } from '../src/facts/types.js';
import { dir, group, makeFacts, symlink, user } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { usersTask } from './users.js';

const host = makeHost();
const plan = (facts: ReturnType<typeof makeFacts>, h = host) => usersTask.plan(h, facts, []);

describe('users', () => {
  it('requests the user and the group', () => {
    expect(usersTask.facts(host)).toEqual([
      { kind: 'group', name: 'hermes' },
      { kind: 'user', name: 'hermes' },
    ]);
  });

  it('creates the group, then the system user with home stateDir and bash', () => {
    expect(plan(makeFacts({ host }))).toEqual([
      { kind: 'group-create', name: 'hermes' },
      {
        kind: 'user-create',
        name: 'hermes',
        group: 'hermes',
        home: '/var/lib/hermes',
        shell: '/bin/bash',
      },
    ]);
  });

  it('creates only what is missing', () => {
    expect(plan(makeFacts({ host, groups: { hermes: group('hermes') } }))).toEqual([
      {
        kind: 'user-create',
        name: 'hermes',
        group: 'hermes',
        home: '/var/lib/hermes',
        shell: '/bin/bash',
      },
    ]);
  });

  it('is in sync when both exist', () => {
    expect(
      plan(
        makeFacts({ host, users: { hermes: user('hermes') }, groups: { hermes: group('hermes') } }),
      ),
    ).toEqual([]);
  });

  it('leaves an existing user with another home or shell alone', () => {
    const facts = makeFacts({
      host,
      users: { hermes: user('hermes', '/home/hermes', '/usr/sbin/nologin') },
      groups: { hermes: group('hermes') },
    });
    expect(plan(facts)).toEqual([]);
  });

  it('uses the configured names and a normalized stateDir', () => {
    const h = makeHost({ user: 'agent', group: 'agents', stateDir: '/srv/agent/' });
    expect(plan(makeFacts({ host: h }), h)).toEqual([
      { kind: 'group-create', name: 'agents' },
      {
        kind: 'user-create',
        name: 'agent',
        group: 'agents',
        home: '/srv/agent',
        shell: '/bin/bash',
      },
    ]);
  });

  it('fails, naming what is missing, when createUser is false', () => {
    const h = makeHost({ createUser: false });
    expect(() => plan(makeFacts({ host: h }), h)).toThrow(PlanError);
    expect(() => plan(makeFacts({ host: h }), h)).toThrow(
      'group hermes and user hermes do not exist on the host and createUser is false',
    );
    const onlyUser = makeFacts({ host: h, groups: { hermes: group('hermes') } });
    expect(() => plan(onlyUser, h)).toThrow(/^user hermes does not exist .*createUser is false/);
  });

  it('plans nothing when createUser is false and both exist', () => {
    const h = makeHost({ createUser: false });
    const facts = makeFacts({
      host: h,
      users: { hermes: user('hermes') },
      groups: { hermes: group('hermes') },
    });
    expect(plan(facts, h)).toEqual([]);
  });
});

describe('container.hostUsers', () => {
  const shared = makeHost({
    container: { ...makeHost().hermes.container, hostUsers: ['ana'] },
  });
  const factsWith = (paths: Record<string, PathFact>, members?: string[]) => {
    const facts = makeFacts({ host: shared, tasks: [usersTask], paths });
    facts.users.set('hermes', user('hermes'));
    facts.groups.set('hermes', { ...group('hermes'), ...(members ? { members } : {}) });
    facts.users.set('ana', { ...user('ana', '/home/ana'), gid: 1000 });
    return facts;
  };

  it('adds the person to the group and links ~/.hermes as the person', () => {
    expect(usersTask.plan(shared, factsWith({ '/home/ana': dir() }), [])).toEqual([
      { kind: 'group-member', name: 'ana', group: 'hermes' },
      {
        kind: 'symlink',
        path: '/home/ana/.hermes',
        target: '/var/lib/hermes/.hermes',
        before: { kind: 'absent' },
        as: 'ana',
      },
    ]);
    const done = factsWith(
      { '/home/ana': dir(), '/home/ana/.hermes': symlink('/var/lib/hermes/.hermes') },
      ['ana'],
    );
    expect(usersTask.plan(shared, done, [])).toEqual([]);
  });

  it('sets a real ~/.hermes aside, never deletes it, and refuses when its new name is taken', () => {
    const own = dir({ mode: 0o700, user: 'ana', group: 'ana' });
    const changes = usersTask.plan(
      shared,
      factsWith({ '/home/ana': dir(), '/home/ana/.hermes': own }, ['ana']),
      [],
    );
    expect(changes).toEqual([
      {
        kind: 'set-aside',
        path: '/home/ana/.hermes',
        target: '/home/ana/.hermes.before-hermes-fleet',
        before: own,
        as: 'ana',
      },
      {
        kind: 'symlink',
        path: '/home/ana/.hermes',
        target: '/var/lib/hermes/.hermes',
        before: { kind: 'absent' },
        as: 'ana',
      },
    ]);
    expect(() =>
      usersTask.plan(
        shared,
        factsWith(
          {
            '/home/ana': dir(),
            '/home/ana/.hermes': own,
            '/home/ana/.hermes.before-hermes-fleet': own,
          },
          ['ana'],
        ),
        [],
      ),
    ).toThrow(PlanError);
  });

  it('fails for a person who does not exist', () => {
    const facts = makeFacts({ host: shared, tasks: [usersTask] });
    expect(() => usersTask.plan(shared, facts, [])).toThrow(/user ana does not exist/);
  });
});
