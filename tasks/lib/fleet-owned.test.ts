import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/secret.js';
import { docsTask } from '../docs.js';
import { ABSENT, converge, file, freshFacts, planAll } from '../../test/utils/facts.js';
import { makeHost } from '../../test/utils/host.js';
import { mergeTask } from '../merge.js';
import { secretsTask } from '../secrets.js';
import { mergeConfigText } from './config-merge.js';
import { parseOwnedConfig, settingsLeaves } from './fleet-owned.js';

const CONFIG = '/var/lib/hermes/.hermes/config.yaml';
const C640 = { mode: 0o640, user: 'hermes', group: 'hermes' };
const secret = (v: string) => new Secret(v, 'test');

describe('fleet-owned keys: what leaves the inventory leaves the host', () => {
  it('names the leaves of the settings, maps by their keys', () => {
    expect(
      settingsLeaves({ model: 'x', compression: { threshold: 0.5, on: true }, empty: {}, l: [1] }),
    ).toEqual([['model'], ['compression', 'threshold'], ['compression', 'on'], ['empty'], ['l']]);
  });

  it('takes a key out of config.yaml with its comments around it intact, and a map it empties', () => {
    const current = [
      '# mine',
      'model: x  # the model',
      'compression:',
      '  threshold: 0.5',
      'mine: kept',
      '',
    ].join('\n');
    const out = mergeConfigText(current, { model: 'x' }, [['compression', 'threshold'], ['gone']]);
    expect(out).toEqual({
      kind: 'write',
      text: '# mine\nmodel: x # the model\nmine: kept\n',
      note: 'merged',
      removed: [['compression', 'threshold']],
    });
  });

  it('keeps a map that still holds a key the person added', () => {
    const current = 'compression:\n  threshold: 0.5\n  mine: 1\n';
    const out = mergeConfigText(current, {}, [['compression', 'threshold']]);
    expect(out).toMatchObject({ kind: 'write', text: 'compression:\n  mine: 1\n' });
  });

  it('removes a settings key and an mcp server the inventory dropped, and says so', () => {
    const before = makeHost({
      settings: { model: 'a', compression: { threshold: 0.5 } },
      mcpServers: { search: { command: 'srv', args: ['--x'] } },
    });
    const host = converge(before, freshFacts(before));
    const after = makeHost({ settings: { model: 'a' } });
    const plans = planAll(after, host);
    const merge = plans.find((p) => p.task === 'merge')?.changes ?? [];
    const write = merge.find((c) => c.kind === 'file' && c.path === CONFIG);
    expect(write).toMatchObject({
      forgets: [
        { key: 'compression.threshold' },
        { key: 'mcp_servers.search.command' },
        { key: 'mcp_servers.search.args' },
        { key: 'mcp_servers.search.enabled' },
      ],
    });
    expect(write?.kind === 'file' && 'text' in write.body ? write.body.text : '').toBe(
      'model: a\n',
    );
    // The record now names only what the inventory has; the next run is a no-op.
    const record = merge.at(-1);
    expect(record?.kind === 'file' && 'text' in record.body ? record.body.text : '').toBe(
      '{"version":1,"keys":[["model"]]}\n',
    );
    const next = converge(after, host);
    expect(planAll(after, next).flatMap((p) => p.changes)).toEqual([]);
  });

  it('removes nothing on a host with no record (first run by this version), and records', () => {
    const host = makeHost({ settings: { model: 'a' } });
    const facts = freshFacts(host, {
      paths: { [CONFIG]: file('model: a\nold: from the nixos merge\n', C640) },
    });
    const changes = mergeTask.plan(host, facts, []);
    expect(changes).toEqual([
      {
        kind: 'file',
        path: '/var/lib/hermes/.hermes/.managed',
        body: { text: '' },
        attrs: { ...C640, mode: 0o644 },
        before: ABSENT,
        as: 'hermes',
      },
    ]);
    expect(parseOwnedConfig(JSON.stringify({ version: 1, keys: [['model']] }))).toEqual({
      keys: [['model']],
    });
  });

  it('takes an environment key and a secret out of .env, by name only', () => {
    const before = makeHost({
      environment: { KEEP: '1', OLD_ENV: 'x' },
      secrets: { OLD_TOKEN: secret('sk-old') },
    });
    const host = converge(before, freshFacts(before));
    const after = makeHost({ environment: { KEEP: '1' } });
    const changes = secretsTask.plan(after, host, []);
    expect(changes).toMatchObject([
      {
        kind: 'file',
        path: '/var/lib/hermes/.hermes/.env',
        forgets: [{ key: 'OLD_ENV' }, { key: 'OLD_TOKEN', secret: true }],
      },
    ]);
    expect(JSON.stringify(changes)).not.toContain('sk-old');
  });

  it('rewrites .env (empty) when the inventory drops its last key', () => {
    const before = makeHost({ secrets: { OLD_TOKEN: secret('sk-old') } });
    const host = converge(before, freshFacts(before));
    const changes = secretsTask.plan(makeHost(), host, []);
    expect(changes).toMatchObject([
      { kind: 'file', forgets: [{ key: 'OLD_TOKEN', secret: true }] },
    ]);
  });

  it('removes a document it installed and the inventory dropped, never one it did not', () => {
    const before = makeHost({ documents: { 'SOUL.md': 'a', 'OLD.md': 'b' } });
    const host = converge(before, freshFacts(before));
    const after = makeHost({ documents: { 'SOUL.md': 'a' } });
    expect(docsTask.plan(after, host, [])).toEqual([
      {
        kind: 'remove',
        path: '/var/lib/hermes/workspace/OLD.md',
        before: ABSENT,
        why: 'no longer in the inventory',
        as: 'hermes',
      },
    ]);
  });
});

describe('fleet-owned keys never take a key the inventory still sets', () => {
  it('keeps a scalar that became a map, and a map that became a scalar', () => {
    for (const [owned, settings] of [
      [[['a']], { a: { b: 1 } }],
      [[['a', 'b']], { a: 5 }],
      [[['a', 'b']], { a: {} }],
    ] as const) {
      const host = makeHost({ settings });
      const record = '/var/lib/hermes/.hermes/.fleet-owned-config.json';
      const facts = freshFacts(host, {
        paths: {
          [CONFIG]: file('a: 5\nmine: 1\n', C640),
          [record]: file(JSON.stringify({ version: 1, keys: owned }), C640),
        },
      });
      const write = mergeTask.plan(host, facts, []).find((c) => c.kind === 'file');
      expect(write && 'forgets' in write ? write.forgets : undefined).toBeUndefined();
    }
  });
});
