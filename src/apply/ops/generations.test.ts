import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../exec/local-executor.js';
import { quote } from '../../exec/quote.js';
import type { Change } from '../../plan/types.js';
import { applyOps } from '../apply.js';
import { planOps } from '../encode-ops.js';

const sh = (script: string) => `sh -c ${quote(script)}`;
const isRoot = process.getuid?.() === 0;

/** A tree with two files (one secret) and a generations directory, as root keeps them. */
function host() {
  const dir = mkdtempSync(join(tmpdir(), 'generations-'));
  const config = join(dir, 'config.yaml');
  const env = join(dir, '.env');
  writeFileSync(config, 'model: one\n', { mode: 0o640 });
  writeFileSync(env, 'KEY=one\n', { mode: 0o600 });
  return { dir, config, env, store: join(dir, 'generations'), missing: join(dir, 'SOUL.md') };
}

function record(h: ReturnType<typeof host>, keep = 5): Change {
  return {
    kind: 'generation',
    path: h.store,
    keep,
    files: [
      { name: 'config.yaml', path: h.config },
      { name: '.env', path: h.env, secret: true },
      { name: 'documents/SOUL.md', path: h.missing },
    ],
  };
}

async function apply(changes: Change[]) {
  return applyOps(localExecutor, planOps([{ task: 'service', changes }]), {
    commandLine: sh,
    timeoutMs: 10_000,
    inSession: true,
  });
}

describe.skipIf(!isRoot)('generation and generation-restore (a real local shell)', () => {
  it('records each file whole with its manifest line, names the newest current, keeps `keep`', async () => {
    const h = host();
    expect((await apply([record(h)])).failure).toBeUndefined();
    const one = join(h.store, '1');
    expect(readFileSync(join(h.store, 'current'), 'utf8')).toBe('1\n');
    expect(readFileSync(join(one, 'meta'), 'utf8')).toMatch(/^number=1\ntime=\d{4}-\d\d-\d\dT/);
    expect(readFileSync(join(one, 'files', 'config.yaml'), 'utf8')).toBe('model: one\n');
    expect(readFileSync(join(one, 'files', '.env'), 'utf8')).toBe('KEY=one\n');
    const manifest = readFileSync(join(one, 'manifest'), 'utf8').trim().split('\n');
    expect(manifest.map((line) => line.split('\t').filter((_, i) => i !== 2))).toEqual([
      ['config.yaml', '640:root:root', '0', h.config, '-'],
      ['.env', '600:root:root', '1', h.env, '-'],
      ['documents/SOUL.md', 'absent', '0', h.missing, '-'],
    ]);
    expect(statSync(h.store).mode & 0o777).toBe(0o700);
    expect(statSync(join(one, 'files', '.env')).mode & 0o777).toBe(0o600);

    expect((await apply([record(h, 2)])).failure).toBeUndefined();
    expect((await apply([record(h, 2)])).failure).toBeUndefined();
    expect(readdirSync(h.store).sort()).toEqual(['2', '3', 'current']);
    expect(readFileSync(join(h.store, 'current'), 'utf8')).toBe('3\n');
  });

  it('puts a kept generation back: each file with its bytes and mode, a file it lacked removed', async () => {
    const h = host();
    expect((await apply([record(h)])).failure).toBeUndefined();
    writeFileSync(h.config, 'model: two\n', { mode: 0o644 });
    writeFileSync(h.missing, 'new\n');
    expect((await apply([record(h)])).failure).toBeUndefined();

    const outcome = await apply([{ kind: 'generation-restore', path: h.store, unit: 'x' }]);
    expect(outcome.failure).toBeUndefined();
    expect(readFileSync(h.config, 'utf8')).toBe('model: one\n');
    expect(statSync(h.config).mode & 0o777).toBe(0o640);
    expect(readFileSync(h.env, 'utf8')).toBe('KEY=one\n');
    expect(existsSync(h.missing)).toBe(false);
    // Nothing kept for a rollback is left once the batch ended well.
    expect(readdirSync(h.dir).filter((n) => n.startsWith('.hermes-fleet'))).toEqual([]);
  });

  it('fails with a clear message when no generation is kept before the current one', async () => {
    const h = host();
    expect((await apply([record(h)])).failure).toBeUndefined();
    const outcome = await apply([{ kind: 'generation-restore', path: h.store, unit: 'x' }]);
    expect(outcome.failure?.message).toBe(
      'no generation before 1 is kept on this host (see hermes-fleet generations)',
    );
  });
});
