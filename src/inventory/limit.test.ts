import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { selectHosts } from './limit.js';
import type { HostSpec, Inventory } from './types.js';

function inventory(): Inventory {
  const groups = new Map<string, string[]>([
    ['all', ['edge', 'web01', 'web02', 'web03', 'db1', 'db2']],
    ['web', ['web01', 'web02', 'web03']],
    ['db', ['db1', 'db2']],
    ['eu', ['web01', 'db1']],
    ['canary', ['web03']],
  ]);
  const hosts = (groups.get('all') ?? []).map((name) => ({ name }) as HostSpec);
  return { hosts, groups, files: [] };
}

const names = (pattern: string | undefined) =>
  selectHosts(inventory(), pattern).map((host) => host.name);

describe('selectHosts', () => {
  it('selects every host without a pattern, and for all or *', () => {
    expect(names(undefined)).toEqual(['edge', 'web01', 'web02', 'web03', 'db1', 'db2']);
    expect(names('all')).toHaveLength(6);
    expect(names('*')).toHaveLength(6);
  });
  it('matches a host name or a group name', () => {
    expect(names('edge')).toEqual(['edge']);
    expect(names('db')).toEqual(['db1', 'db2']);
  });
  it('matches globs against hosts and groups', () => {
    expect(names('web0[12]')).toEqual(['web01', 'web02']);
    expect(names('d?')).toEqual(['db1', 'db2']);
    expect(names('can*')).toEqual(['web03']);
  });
  it('matches ~regex', () => {
    expect(names('~^web0[23]$')).toEqual(['web02', 'web03']);
    expect(names('~(db|edge)')).toEqual(['edge', 'db1', 'db2']);
  });
  it('unions with : and , and keeps inventory order', () => {
    expect(names('db2:edge')).toEqual(['edge', 'db2']);
    expect(names('db2,web01')).toEqual(['web01', 'db2']);
  });
  it('intersects with & and excludes with !', () => {
    expect(names('web:&eu')).toEqual(['web01']);
    expect(names('all:!web')).toEqual(['edge', 'db1', 'db2']);
    expect(names('web:!canary')).toEqual(['web01', 'web02']);
    expect(names('!db')).toEqual(['edge', 'web01', 'web02', 'web03']);
    expect(names('!canary:web')).toEqual(['web01', 'web02']);
  });
  it('reads names from @file, one per line', () => {
    const dir = fixtureDir({});
    const file = join(dir, 'hosts.txt');
    writeFileSync(file, '# canaries\nweb02\n\ndb1\n');
    expect(names(`@${file}`)).toEqual(['web02', 'db1']);
    expect(names(`web:!@${file}`)).toEqual(['web01', 'web03']);
  });
  it('fails on a term that matches nothing, with a hint', () => {
    expect(() => names('wbe01')).toThrow(UserError);
    expect(() => names('wbe01')).toThrow('--limit: "wbe01" matches no host or group');
    try {
      names('web:!canry');
    } catch (err) {
      expect((err as UserError).format()).toContain('did you mean `canary`?');
    }
  });
  it('fails when the whole pattern selects nothing', () => {
    expect(() => names('eu:&db:&web')).toThrow('selects no host');
  });
  it('points at the line of an @file term that matches nothing', () => {
    const dir = fixtureDir({ 'hosts.txt': 'web01\nnope\n' });
    const file = join(dir, 'hosts.txt');
    try {
      names(`@${file}`);
      expect.unreachable();
    } catch (err) {
      expect((err as UserError).format()).toContain(`${file}:2: "nope" matches no host or group`);
    }
  });
  it('fails on a bad regex and a missing @file', () => {
    expect(() => names('~web(')).toThrow('not a valid regular expression');
    expect(() => names('@/nonexistent/hosts.txt')).toThrow('cannot read the file');
  });
});
