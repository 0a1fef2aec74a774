import { partsBytes } from '../../test/utils/stdin.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import type { TaskPlan } from '../plan/types.js';
import { Secret } from '../secret.js';
import { quote } from '../exec/quote.js';
import { applyOps } from './apply.js';
import { encodeOps, opSummary, planOps } from './encode-ops.js';

const sh = (script: string) => `sh -c ${quote(script)}`;
const root = { user: 'root', group: 'root' };
const absent = { kind: 'absent' } as const;

describe('the apply batch (run by a real local shell)', () => {
  it('stops at the first failure, names it, and leaves no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apply-'));
    writeFileSync(join(dir, 'a'), 'old');
    const plans: TaskPlan[] = [
      {
        task: 'docs',
        changes: [
          {
            kind: 'file',
            path: join(dir, 'missing-dir', 'x'),
            body: { text: 'new' },
            attrs: { mode: 0o640, ...root },
            before: absent,
          },
          {
            kind: 'file',
            path: join(dir, 'a'),
            body: { text: 'new' },
            attrs: { mode: 0o640, ...root },
            before: absent,
          },
        ],
      },
    ];
    const ops = planOps(plans);
    const outcome = await applyOps(localExecutor, ops, {
      commandLine: sh,
      timeoutMs: 10_000,
      inSession: true,
    });
    expect(outcome.done).toBe(1);
    expect(outcome.failure && ops[outcome.failure.index]?.task).toBe('docs');
    expect(outcome.failure?.message).toMatch(/temporary file/);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((n) => n.startsWith('.hermes-fleet'))).toEqual([]);
  });

  it('stops at the next task boundary on SIGINT, finishing the task in flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apply-'));
    const write = (name: string) => ({
      kind: 'file' as const,
      path: join(dir, name),
      body: { text: name },
      attrs: { mode: 0o644, user: 'root', group: 'root' },
      before: absent,
    });
    const ops = planOps([
      { task: 'merge', changes: [write('m1'), write('m2')] },
      { task: 'docs', changes: [write('d1')] },
    ]);
    const stdin = partsBytes(await encodeOps(ops));
    // The second task's bytes arrive only after the interrupt, as over a slow link.
    const splitAt = stdin.indexOf(Buffer.from('3\ttask\tname=docs'));
    const controller = new AbortController();
    const outcome = await applyOps(
      {
        exec: (command, request) => {
          const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
          child.stdin.write(stdin.subarray(0, splitAt));
          let out = '';
          return new Promise((resolve) => {
            child.stdout.on('data', (chunk: Buffer) => {
              out += chunk.toString();
              request?.onStdout?.(chunk);
              if (out.includes('2\tok\n') && !controller.signal.aborted) {
                controller.abort();
                child.kill('SIGINT');
                setTimeout(() => child.stdin.end(stdin.subarray(splitAt)), 200);
              }
            });
            child.on('close', (code) => {
              resolve({
                exitCode: code,
                stdout: Buffer.from(out),
                stderr: Buffer.alloc(0),
                durationMs: 0,
                timedOut: false,
              });
            });
          });
        },
      },
      ops,
      {
        commandLine: (script) => script,
        timeoutMs: 10_000,
        inSession: true,
        interrupt: controller.signal,
      },
    );
    expect(outcome.interrupted).toBe(true);
    expect(outcome.done).toBe(3);
    expect(readFileSync(join(dir, 'm2'), 'utf8')).toBe('m2');
    expect(readdirSync(dir).sort()).toEqual(['m1', 'm2']);
  });

  it('never shows a file body in an operation summary', () => {
    const [, op] = planOps([
      {
        task: 'secrets',
        changes: [
          {
            kind: 'file',
            path: '/var/lib/hermes/.hermes/.env',
            body: { secret: new Secret('TOKEN=abc', 'x') },
            attrs: { mode: 0o600, user: 'hermes', group: 'hermes' },
            before: absent,
          },
        ],
      },
    ]);
    expect(op && opSummary(op)).toBe(
      'file path=/var/lib/hermes/.hermes/.env mode=0600 user=hermes group=hermes <secret on stdin>',
    );
  });
});
