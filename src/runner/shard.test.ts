import { describe, expect, it } from 'vitest';
import { parseShard, selectShard } from './shard.js';

const hosts = (names: string[]) => names.map((name) => ({ name }));

describe('shards', () => {
  const names = Array.from({ length: 50 }, (_, i) => `web${String(i + 1).padStart(2, '0')}`);
  it('cover every host exactly once', () => {
    const shards = [1, 2, 3].map((i) => selectShard(hosts(names), `${i}/3`).map((h) => h.name));
    expect(shards.flat().sort()).toEqual([...names].sort());
    expect(shards.every((s) => s.length > 5)).toBe(true);
  });
  it('keep their hosts when an unrelated host is added or the order changes', () => {
    const before = selectShard(hosts(names), '2/3').map((h) => h.name);
    const after = selectShard(hosts(['new-host', ...[...names].reverse()]), '2/3')
      .map((h) => h.name)
      .filter((n) => n !== 'new-host');
    expect(after.sort()).toEqual([...before].sort());
  });
  it('refuses malformed shards', () => {
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1']) {
      expect(() => parseShard(bad)).toThrow(/--shard/);
    }
  });
});
