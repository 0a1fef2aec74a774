import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedFiles, parseGenerations } from './generations.js';
import GENERATIONS_SH from './generations.sh';

function generation(dir: string, n: number, meta: string, manifest: string): void {
  mkdirSync(join(dir, String(n)));
  writeFileSync(join(dir, String(n), 'meta'), meta);
  writeFileSync(join(dir, String(n), 'manifest'), manifest);
}

describe('generations.sh and its parser', () => {
  it('lists every generation with its meta and manifest, oldest first, and the current one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'generations-'));
    generation(
      dir,
      2,
      'number=2\ntime=T2\nwho=ci@build\nversion=0.1.0\nrelease=abc\ninventory=ff  hosts.yaml\n',
      'unit\t644:root:root\taa\t0\n.env\t600:hermes:hermes\tbb\t1\nauth.json\tabsent\t-\t1\n',
    );
    generation(
      dir,
      1,
      'number=1\ntime=T1\n',
      'unit\t644:root:root\taa\t0\n.env\t600:hermes:hermes\tcc\t1\nauth.json\tabsent\t-\t1\n',
    );
    mkdirSync(join(dir, '.new.3'));
    writeFileSync(join(dir, 'current'), '2\n');
    const out = execFileSync('/bin/sh', ['-c', GENERATIONS_SH], { input: `dir=${dir}\n` });
    const parsed = parseGenerations(out.toString('utf8'));
    expect(parsed.current).toBe(2);
    expect(parsed.generations.map((g) => g.number)).toEqual([1, 2]);
    const [first, second] = parsed.generations;
    expect(second).toMatchObject({
      time: 'T2',
      who: 'ci@build',
      version: '0.1.0',
      release: 'abc',
      inventory: [{ file: 'hosts.yaml', sha256: 'ff' }],
    });
    expect(second?.files[2]).toEqual({ name: 'auth.json', secret: true });
    // Only .env differs; every file there is new in the first generation.
    expect(second && changedFiles(second, first)).toEqual(['.env']);
    expect(first && changedFiles(first, undefined)).toEqual(['unit', '.env']);
  });

  it('refuses a listing cut short before its `end` line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'generations-'));
    generation(dir, 1, 'number=1\ntime=T1\n', 'unit\t644:root:root\taa\t0\n');
    writeFileSync(join(dir, 'current'), '1\n');
    const whole = execFileSync('/bin/sh', ['-c', GENERATIONS_SH], { input: `dir=${dir}\n` });
    const text = whole.toString('utf8');
    expect(text.endsWith('end\n')).toBe(true);
    expect(parseGenerations(text).generations).toHaveLength(1);
    // Every prefix that ends before `end` (on a line boundary or inside one) is refused.
    for (const cut of [text.length - 'end\n'.length, text.indexOf('generation\t'), 3]) {
      expect(() => parseGenerations(text.slice(0, cut))).toThrow(/cut short/);
    }
  });

  it('answers nothing for a host without generations', () => {
    const out = execFileSync('/bin/sh', ['-c', GENERATIONS_SH], {
      input: `dir=${join(tmpdir(), 'no-such-generations-dir')}\n`,
    });
    expect(parseGenerations(out.toString('utf8'))).toEqual({ generations: [] });
  });
});
