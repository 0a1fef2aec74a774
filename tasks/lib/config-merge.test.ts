import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PlanError } from '../../src/plan/types.js';
import { deepMerge, mergeConfigText, toPlain } from './config-merge.js';
import type { MergeOutcome, PlainMap } from './config-merge.js';
import { PYYAML_DOCUMENT } from './yaml-compat.js';

function written(outcome: MergeOutcome): string {
  if (outcome.kind !== 'write') throw new Error('expected a write');
  return outcome.text;
}

/** Merging the result again changes nothing: the merge is idempotent. */
function mergeTwice(current: string | undefined, want: PlainMap): string {
  const text = written(mergeConfigText(current, want));
  expect(mergeConfigText(text, want)).toEqual({ kind: 'unchanged' });
  return text;
}

describe('deepMerge (the NixOS merge script)', () => {
  it('merges maps recursively, replaces lists and scalars, keeps other keys', () => {
    expect(
      deepMerge(
        { a: { x: 1, y: [1, 2] }, b: 'keep', c: { deep: true } },
        { a: { y: [3], z: null }, c: 'scalar wins', d: { new: 1 } },
      ),
    ).toEqual({ a: { x: 1, y: [3], z: null }, b: 'keep', c: 'scalar wins', d: { new: 1 } });
  });
  it('lets a map replace a scalar', () => {
    expect(deepMerge({ a: 1 }, { a: { b: 2 } })).toEqual({ a: { b: 2 } });
  });
});

describe('toPlain', () => {
  it('refuses values that are not JSON-like', () => {
    expect(() => toPlain({ a: { b: new Date(0) } }, 'settings')).toThrow(PlanError);
    expect(() => toPlain({ a: { b: new Date(0) } }, 'settings')).toThrow(/settings\.a\.b/);
    expect(() => toPlain({ n: Number.NaN }, 'settings')).toThrow(PlanError);
  });
  it('drops undefined members as JSON does', () => {
    expect(toPlain({ a: undefined, b: 1 }, 's')).toEqual({ b: 1 });
  });
});

describe('mergeConfigText', () => {
  it('creates the file from the settings when absent', () => {
    expect(mergeTwice(undefined, { model: 'anthropic/claude-sonnet-4', toolsets: ['all'] })).toBe(
      'model: anthropic/claude-sonnet-4\ntoolsets:\n  - all\n',
    );
  });

  it('creates from the settings when the file is empty, only comments, or null', () => {
    for (const current of ['', '\n', '~\n', '# nothing yet\n', 'false\n']) {
      expect(mergeConfigText(current, { a: 1 })).toMatchObject({ kind: 'write' });
      expect(parse(written(mergeConfigText(current, { a: 1 })))).toEqual({ a: 1 });
    }
  });

  it("keeps a person's comments, order and keys; managed keys win; new keys go last", () => {
    const current = [
      '# My hermes config',
      'model: openai/gpt-4o # trying this one',
      '',
      '# skills I added by hand',
      'skills:',
      '  - web',
      '  - shell',
      'compression:',
      '  enabled: false # too slow',
      '  threshold: 0.5',
      'streaming: true',
      '',
    ].join('\n');
    const text = mergeTwice(current, {
      model: 'anthropic/claude-sonnet-4',
      compression: { enabled: true, mode: 'summary' },
      toolsets: ['all'],
    });
    expect(text).toBe(
      [
        '# My hermes config',
        'model: anthropic/claude-sonnet-4 # trying this one',
        '',
        '# skills I added by hand',
        'skills:',
        '  - web',
        '  - shell',
        'compression:',
        '  enabled: true # too slow',
        '  threshold: 0.5',
        '  mode: summary',
        'streaming: true',
        'toolsets:',
        '  - all',
        '',
      ].join('\n'),
    );
  });

  it('leaves a file that already holds every managed value untouched, whatever its style', () => {
    const current =
      "model: 'anthropic/claude-sonnet-4'\nflag: yes\nlist: [a, b]\nn: 1.0\nmine: 1\n";
    expect(
      mergeConfigText(current, {
        model: 'anthropic/claude-sonnet-4',
        flag: true,
        list: ['a', 'b'],
        n: 1,
      }),
    ).toEqual({
      kind: 'unchanged',
    });
  });

  it('replaces lists whole and keeps flow style', () => {
    expect(mergeTwice('toolsets: [web, shell] # short\nx: 1\n', { toolsets: ['all'] })).toBe(
      'toolsets: [all] # short\nx: 1\n',
    );
  });

  it('merges nested maps at any depth and replaces a scalar by a map', () => {
    const current = 'a:\n  b:\n    c: 1\n    keep: yes\nd: scalar\n';
    const text = mergeTwice(current, { a: { b: { c: 2, e: [1] } }, d: { now: 'map' } });
    expect(parse(text, PYYAML_DOCUMENT)).toEqual({
      a: { b: { c: 2, keep: true, e: [1] } },
      d: { now: 'map' },
    });
  });

  it('never deletes a key, even one the settings no longer name', () => {
    expect(mergeConfigText('provider: old\nmodel: x\n', { model: 'x' })).toEqual({
      kind: 'unchanged',
    });
  });

  it('keeps YAML types: a string "true" stays a string, numbers and null stay what they are', () => {
    const want = {
      s: 'true',
      y: 'yes',
      o: 'on',
      n: '5',
      f: 0.85,
      i: 3,
      b: false,
      z: null,
      d: '2024-01-01',
      e: '1e3',
      big: 1e21,
    };
    const text = mergeTwice(undefined, want);
    expect(parse(text, PYYAML_DOCUMENT)).toEqual(want);
    // An existing boolean where the settings say a string is replaced (PyYAML reads `yes` as True).
    expect(written(mergeConfigText('s: yes\n', { s: 'yes' }))).toBe('s: "yes"\n');
  });

  it('reads the current file as PyYAML does (y is a string, 1e3 is a string)', () => {
    expect(mergeConfigText('a: y\nb: 1e3\n', { a: 'y', b: '1e3' })).toEqual({ kind: 'unchanged' });
    expect(written(mergeConfigText('b: 1e3\n', { b: 1000 }))).toBe('b: 1000\n');
  });

  it('is deterministic', () => {
    const want = { b: { y: 1, x: 2 }, a: [3] };
    expect(mergeConfigText('z: 1\n', want)).toEqual(mergeConfigText('z: 1\n', want));
  });

  it('replaces a file that does not parse, handing back its text to keep', () => {
    const broken = 'model: [unclosed\n';
    const outcome = mergeConfigText(broken, { model: 'x' });
    expect(outcome).toMatchObject({ kind: 'write', text: 'model: x\n', brokenText: broken });
  });

  it('replaces a file whose top level is not a map, or that uses tags PyYAML cannot load', () => {
    for (const broken of [
      '- a\n- b\n',
      'just a string\n',
      'a: !!python/tuple [1]\n',
      'a: 1\n---\nb: 2\n',
    ]) {
      expect(mergeConfigText(broken, { a: 1 })).toMatchObject({
        kind: 'write',
        text: 'a: 1\n',
        brokenText: broken,
      });
    }
  });

  it('expands anchors and aliases rather than editing a shared node', () => {
    const current = 'base: &b\n  x: 1\nother:\n  <<: *b\n  y: 2\n';
    const text = mergeTwice(current, { other: { x: 5 } });
    expect(parse(text, PYYAML_DOCUMENT)).toEqual({ base: { x: 1 }, other: { x: 5, y: 2 } });
    expect(mergeConfigText(current, { other: { x: 1 } })).toEqual({ kind: 'unchanged' });
  });

  it('updates the last of duplicate keys, the one PyYAML reads', () => {
    expect(written(mergeConfigText('a: 1\na: 2\n', { a: 3 }))).toBe('a: 1\na: 3\n');
  });

  const python = '/usr/bin/python3';
  const havePyyaml =
    existsSync(python) &&
    (() => {
      try {
        execFileSync(python, ['-c', 'import yaml']);
        return true;
      } catch {
        return false;
      }
    })();

  it.skipIf(!havePyyaml)(
    'writes text that PyYAML (what hermes uses) reads back as the same values',
    () => {
      const hostile = [
        'yes',
        'no',
        'on',
        'off',
        'y',
        'n',
        'true',
        'True',
        'null',
        '~',
        '',
        ' lead',
        'trail ',
        '1:20',
        '0755',
        '0o17',
        '0x1f',
        '1e3',
        '1.0e+3',
        '-.5',
        '.5',
        '=',
        '<<',
        '2001-12-14',
        '# hash',
        'a: b',
        '- dash',
        '[x]',
        '{y}',
        '*alias',
        '&anchor',
        '!tag',
        '%percent',
        '@at',
        '`tick`',
        'multi\nline',
        'trailing newline\n',
        'tab\there',
        'quote "x" \'y\'',
        'back\\slash',
        'unicode ✓ é',
        '12_000',
        '.inf',
        '.nan',
        '+5',
        '-0',
      ];
      const want: PlainMap = {
        strings: hostile,
        keys: Object.fromEntries(hostile.filter((s) => s !== '').map((s, i) => [s, i])),
        numbers: [0, -0, 1, -1, 0.5, -0.5, 1e21, -1e22, 1e-7, 2.5e-8, 123456789012, 0.1 + 0.2],
        booleans: [true, false],
        nothing: null,
        nested: { a: { b: { c: [{ d: 'e' }] } } },
      };
      const text = mergeTwice('existing: keep # a comment\n', want);
      const out = execFileSync(
        python,
        ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'],
        {
          input: text,
        },
      ).toString();
      expect(JSON.parse(out)).toEqual({ existing: 'keep', ...JSON.parse(JSON.stringify(want)) });
    },
  );
});
