import { partsBytes } from '../../../test/utils/stdin.js';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../exec/local-executor.js';
import type { TaskPlan } from '../../plan/types.js';
import { Secret } from '../../secret.js';
import { quote } from '../../exec/quote.js';
import { applyOps } from '../apply.js';
import { encodeOps, planOps } from '../encode-ops.js';

const sh = (script: string) => `sh -c ${quote(script)}`;
const root = { user: 'root', group: 'root' };
const absent = { kind: 'absent' } as const;
const isRoot = process.getuid?.() === 0;

describe('the file operations (run by a real local shell)', () => {
  it.skipIf(!isRoot)(
    'writes hostile content byte-for-byte, atomically, with mode and owner',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'apply-'));
      const hostile = "EOF\n'$(touch /tmp/pwned)'\n`id`\n\\\"\n\0binary\u00e9\nno newline at end";
      const target = join(dir, "name with 'quotes' $(x)");
      const secretPath = join(dir, '.env');
      const plans: TaskPlan[] = [
        {
          task: 'dirs',
          changes: [
            {
              kind: 'dir',
              path: join(dir, 'sub'),
              attrs: { mode: 0o750, ...root },
              before: absent,
            },
          ],
        },
        {
          task: 'merge',
          changes: [
            {
              kind: 'file',
              path: target,
              body: { text: hostile },
              attrs: { mode: 0o640, ...root },
              before: absent,
            },
            {
              kind: 'file',
              path: secretPath,
              body: { secret: new Secret("KEY='v'\n", 'test') },
              attrs: { mode: 0o600, ...root },
              before: absent,
            },
            { kind: 'symlink', path: join(dir, 'link'), target: '/opt/x y', before: absent },
          ],
        },
      ];
      const ops = planOps(plans);
      const seen: number[] = [];
      const outcome = await applyOps(localExecutor, ops, {
        commandLine: sh,
        timeoutMs: 10_000,
        inSession: true,
        onOpDone: (i) => seen.push(i),
      });
      expect(outcome).toMatchObject({ done: 6 });
      expect(outcome.failure).toBeUndefined();
      expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
      expect(readFileSync(target, 'utf8')).toBe(hostile);
      expect(lstatSync(target).mode & 0o7777).toBe(0o640);
      expect(lstatSync(secretPath).mode & 0o7777).toBe(0o600);
      expect(lstatSync(join(dir, 'sub')).mode & 0o7777).toBe(0o750);
      expect(readlinkSync(join(dir, 'link'))).toBe('/opt/x y');
      expect(readdirSync(dir).filter((n) => n.startsWith('.hermes-fleet'))).toEqual([]);
    },
  );

  it.skipIf(!isRoot)(
    'sets a directory aside under the name beside it, content kept, and refuses a taken name',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'apply-'));
      const own = join(dir, '.hermes');
      mkdirSync(own);
      writeFileSync(join(own, 'notes.txt'), 'mine\n');
      const kept = join(dir, '.hermes.before-hermes-fleet');
      const setAside = () =>
        applyOps(
          localExecutor,
          planOps([
            {
              task: 'users',
              changes: [
                {
                  kind: 'set-aside',
                  path: own,
                  target: kept,
                  before: { kind: 'absent' },
                },
              ],
            },
          ]),
          { commandLine: sh, timeoutMs: 10_000, inSession: true },
        );
      expect((await setAside()).failure).toBeUndefined();
      expect(readFileSync(join(kept, 'notes.txt'), 'utf8')).toBe('mine\n');
      expect(existsSync(own)).toBe(false);
      // Taken: nothing is moved over what is there.
      mkdirSync(own);
      const again = await setAside();
      expect(again.failure).toBeDefined();
      expect(existsSync(own)).toBe(true);
      expect(readFileSync(join(kept, 'notes.txt'), 'utf8')).toBe('mine\n');
    },
  );

  it.skipIf(!isRoot)(
    'clears a setgid bit on directories (GNU chmod/install keep it on a 4-digit mode)',
    async () => {
      // A directory under a setgid parent inherits the bit; with `chmod 0750` it stays 2750,
      // so every later run would plan the same mode change again.
      const dir = mkdtempSync(join(tmpdir(), 'apply-'));
      chmodSync(dir, 0o2755);
      const existing = join(dir, 'existing');
      mkdirSync(existing);
      chmodSync(existing, 0o2750);
      const fresh = join(dir, 'fresh');
      const attrs = { mode: 0o750, ...root };
      const outcome = await applyOps(
        localExecutor,
        planOps([
          {
            task: 'dirs',
            changes: [
              { kind: 'dir', path: existing, attrs, before: absent },
              { kind: 'dir', path: fresh, attrs, before: absent },
            ],
          },
        ]),
        { commandLine: sh, timeoutMs: 10_000, inSession: true },
      );
      expect(outcome.failure).toBeUndefined();
      expect(lstatSync(existing).mode & 0o7777).toBe(0o750);
      expect(lstatSync(fresh).mode & 0o7777).toBe(0o750);
    },
  );

  it('fails the write when its content arrives cut short: old file kept, no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apply-'));
    writeFileSync(join(dir, 'a'), 'old');
    const ops = planOps([
      {
        task: 'docs',
        changes: [
          {
            kind: 'file',
            path: join(dir, 'a'),
            body: { text: 'new content that will be cut' },
            attrs: { mode: 0o644, user: 'root', group: 'root' },
            before: absent,
          },
        ],
      },
    ]);
    // Send the header and only part of the body, as a dropped connection would.
    const full = partsBytes(await encodeOps(ops));
    const cut = full.subarray(0, full.length - 5);
    const outcome = await applyOps(
      { exec: (command, request) => localExecutor.exec(command, { ...request, stdin: cut }) },
      ops,
      { commandLine: sh, timeoutMs: 10_000, inSession: true },
    );
    expect(outcome.done).toBe(1);
    expect(outcome.failure ?? outcome.incomplete).toBeDefined();
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((n) => n.startsWith('.hermes-fleet'))).toEqual([]);
  });

  it.skipIf(!isRoot)(
    'tree-remove: a directory goes with everything in it, never through a link; a link in its place is refused',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'apply-tree-'));
      const outside = mkdtempSync(join(tmpdir(), 'apply-outside-'));
      writeFileSync(join(outside, 'keep'), 'keep');
      const state = join(dir, 'hermes-old');
      mkdirSync(join(state, '.hermes', 'sessions'), { recursive: true });
      writeFileSync(join(state, '.hermes', 'sessions', 's1'), 'chat');
      // A link inside the tree: rm -rf removes the link, not what it points at.
      symlinkSync(outside, join(state, 'escape'));
      const plan = (path: string): TaskPlan[] => [
        { task: 'service', changes: [{ kind: 'tree-remove', path, why: 'test' }] },
      ];
      const run = (path: string) =>
        applyOps(localExecutor, planOps(plan(path)), {
          commandLine: sh,
          timeoutMs: 10_000,
          inSession: true,
        });
      expect((await run(state)).failure).toBeUndefined();
      expect(readdirSync(dir)).toEqual([]);
      expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('keep');
      // Gone already: nothing to do.
      expect((await run(state)).failure).toBeUndefined();
      symlinkSync(outside, state);
      const refused = await run(state);
      expect(refused.failure?.message).toBe(`${state} is a symbolic link: not removing it`);
      expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('keep');
    },
  );
});
