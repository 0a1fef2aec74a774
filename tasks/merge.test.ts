import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PathFact } from '../src/facts/types.js';
import type { Change } from '../src/plan/types.js';
import { ABSENT, bare, file, freshFacts, makeFacts } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { managedSettings, mergeTask } from './merge.js';
import { PYYAML_DOCUMENT } from './lib/yaml-compat.js';

const CONFIG = '/var/lib/hermes/.hermes/config.yaml';
const BACKUP = '/var/lib/hermes/.hermes/config.yaml.broken';
const MANAGED = '/var/lib/hermes/.hermes/.managed';
const OWNED_CONFIG = '/var/lib/hermes/.hermes/.fleet-owned-config.json';
const C640 = { mode: 0o640, user: 'hermes', group: 'hermes' };
const M644 = { mode: 0o644, user: 'hermes', group: 'hermes' };

const host = makeHost({ settings: { model: 'anthropic/claude-sonnet-4', toolsets: ['all'] } });

function facts(config: PathFact, h = host) {
  return makeFacts({
    host: h,
    tasks: [mergeTask],
    paths: { [CONFIG]: config, [MANAGED]: bare(M644) },
  });
}
const plan = (f: ReturnType<typeof makeFacts>, h = host): Change[] => mergeTask.plan(h, f, []);

describe('merge', () => {
  it('requests config.yaml with its text, the backup path and the marker', () => {
    expect(mergeTask.facts(host)).toEqual([
      { kind: 'path', path: CONFIG, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      { kind: 'path', path: BACKUP, as: 'hermes' },
      { kind: 'path', path: MANAGED, as: 'hermes' },
      { kind: 'path', path: OWNED_CONFIG, content: true, as: 'hermes', tree: '/var/lib/hermes' },
    ]);
  });

  it('creates config.yaml and .managed on a fresh host', () => {
    expect(plan(freshFacts(host))).toEqual([
      {
        kind: 'file',
        path: CONFIG,
        body: { text: 'model: anthropic/claude-sonnet-4\ntoolsets:\n  - all\n' },
        attrs: C640,
        before: ABSENT,
        as: 'hermes',
      },
      {
        kind: 'file',
        path: MANAGED,
        body: { text: '' },
        attrs: M644,
        before: ABSENT,
        as: 'hermes',
      },
    ]);
  });

  it('is in sync when the file already holds the settings, whatever else it holds', () => {
    const current = '# mine\nmodel: anthropic/claude-sonnet-4\nstreaming: true\ntoolsets: [all]\n';
    expect(plan(facts(file(current, C640)))).toEqual([]);
  });

  it("merges into the person's file, keeping their keys and comments (exact text)", () => {
    const current = [
      '# hand-tuned',
      'model: openai/gpt-4o  # old',
      'skills:',
      '  - web',
      'toolsets:',
      '  - web',
      '  - shell',
      '',
    ].join('\n');
    const before = file(current, C640);
    expect(plan(facts(before))).toEqual([
      {
        kind: 'file',
        path: CONFIG,
        body: {
          text: [
            '# hand-tuned',
            'model: anthropic/claude-sonnet-4 # old',
            'skills:',
            '  - web',
            'toolsets:',
            '  - all',
            '',
          ].join('\n'),
        },
        attrs: C640,
        before,
        as: 'hermes',
      },
    ]);
  });

  it('only fixes mode and owner when the content is right', () => {
    const before = file('model: anthropic/claude-sonnet-4\ntoolsets: [all]\n', {
      ...C640,
      mode: 0o600,
    });
    expect(plan(facts(before))).toEqual([
      { kind: 'attrs', path: CONFIG, attrs: C640, before, as: 'hermes' },
    ]);
  });

  it('fixes the marker mode without rewriting it, whatever it holds', () => {
    const marker = file('junk', { mode: 0o600, user: 'root', group: 'root' });
    const f = makeFacts({
      host,
      tasks: [mergeTask],
      paths: {
        [CONFIG]: file('model: anthropic/claude-sonnet-4\ntoolsets: [all]\n', C640),
        [MANAGED]: marker,
      },
    });
    // root owns the marker: the account cannot chown it, so root hands it over (in the pinned dir).
    expect(plan(f)).toEqual([
      { kind: 'attrs', path: MANAGED, attrs: M644, before: marker, tree: '/var/lib/hermes' },
    ]);
  });

  it('keeps a copy of an unparsable file beside it before replacing it', () => {
    const broken = 'model: [oops\n';
    const changes = plan(facts(file(broken, C640)));
    expect(changes.map((c) => c.kind === 'file' && [c.path, c.body, c.attrs.mode])).toEqual([
      [BACKUP, { text: broken }, 0o600],
      [CONFIG, { text: 'model: anthropic/claude-sonnet-4\ntoolsets:\n  - all\n' }, 0o640],
    ]);
  });

  it('renders mcpServers under mcp_servers, merged over settings.mcp_servers', () => {
    const h = makeHost({
      settings: { mcp_servers: { old: { url: 'x' }, fs: { timeout: 9 } } },
      mcpServers: { fs: { command: 'npx', args: ['-y', 'fs'] } },
    });
    expect(managedSettings(h.hermes)).toEqual({
      mcp_servers: {
        old: { url: 'x' },
        fs: { timeout: 9, command: 'npx', args: ['-y', 'fs'], enabled: true },
      },
    });
    const change = plan(freshFacts(h), h)[0];
    if (change?.kind !== 'file' || !('text' in change.body))
      throw new Error('expected a text write');
    expect(parse(change.body.text, PYYAML_DOCUMENT)).toEqual(managedSettings(h.hermes));
  });

  it('leaves mcp_servers alone when there are no mcpServers', () => {
    expect(managedSettings(makeHost({ settings: { a: 1 } }).hermes)).toEqual({ a: 1 });
  });

  describe('with configFile', () => {
    const h = makeHost({
      settings: { ignored: true },
      configFile: { path: 'c.yaml', content: 'model: x\n' },
    });

    it('replaces the file with its content, not merging', () => {
      const before = file('model: y\nmine: 1\n', C640);
      expect(plan(facts(before, h), h)).toEqual([
        {
          kind: 'file',
          path: CONFIG,
          body: { text: 'model: x\n' },
          attrs: C640,
          before,
          as: 'hermes',
        },
      ]);
    });

    it('is in sync when the text is the same', () => {
      expect(plan(facts(file('model: x\n', C640), h), h)).toEqual([]);
    });
  });
});
