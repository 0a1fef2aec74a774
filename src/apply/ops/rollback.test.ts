import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../exec/local-executor.js';
import { quote } from '../../exec/quote.js';
import type { TaskPlan } from '../../plan/types.js';
import { applyOps } from '../apply.js';
import { planOps } from '../encode-ops.js';

const isRoot = process.getuid?.() === 0;
const root = { user: 'root', group: 'root' };

/**
 * systemctl and runuser replaced by small scripts first on PATH: the unit is always up and
 * steady, systemctl's other calls are logged, and runuser runs the health command as is.
 */
function fakeSystem(): { dir: string; log: string; commandLine: (script: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'rollback-'));
  const log = join(dir, 'systemctl.log');
  const tool = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  tool(
    'systemctl',
    `case "$1" in is-active) echo active ;; show) echo 42 ;; *) echo "$*" >>${quote(log)} ;; esac`,
  );
  tool('journalctl', 'echo "gateway said: bad config"');
  tool('runuser', 'shift 3; exec "$@"');
  return { dir, log, commandLine: (script) => `PATH=${quote(dir)}:"$PATH" sh -c ${quote(script)}` };
}

/** A write of `config`, then a health check: by default one that passes only on the old content. */
function plans(config: string, command = `grep -q old ${quote(config)}`): TaskPlan[] {
  return [
    {
      task: 'merge',
      changes: [
        {
          kind: 'file',
          path: config,
          body: { text: 'model: new\n' },
          attrs: { mode: 0o640, ...root },
          before: {
            kind: 'file',
            mode: 0o600,
            uid: 0,
            gid: 0,
            mtimeMs: 0,
            size: 11,
            ...root,
          },
        },
      ],
    },
    {
      task: 'service',
      changes: [
        {
          kind: 'wait-healthy',
          unit: 'hermes-agent.service',
          seconds: 0,
          user: 'root',
          command,
          rollback: true,
        },
      ],
    },
  ];
}

describe.skipIf(!isRoot)('the rollback in the apply batch (a real shell, a fake systemd)', () => {
  it('puts back what the batch replaced when the health check fails, then checks again', async () => {
    const sys = fakeSystem();
    const work = mkdtempSync(join(tmpdir(), 'rollback-tree-'));
    const config = join(work, 'config.yaml');
    writeFileSync(config, 'model: old\n', { mode: 0o600 });
    const ops = planOps(plans(config));
    const outcome = await applyOps(localExecutor, ops, {
      commandLine: sys.commandLine,
      timeoutMs: 10_000,
      inSession: true,
    });
    expect(outcome.failure && ops[outcome.failure.index]?.name).toBe('wait-healthy');
    expect(outcome.failure?.message).toMatch(/^health check command failed as root \(exit 1\)/);
    expect(outcome.rollback).toEqual({});
    expect(readFileSync(config, 'utf8')).toBe('model: old\n');
    expect(readdirSync(work)).toEqual(['config.yaml']);
    expect(readFileSync(sys.log, 'utf8').trim().split('\n')).toEqual([
      'stop -- hermes-agent.service',
      'daemon-reload',
      'start -- hermes-agent.service',
    ]);
  });

  it('keeps nothing once a batch that needs no rollback ended well (discard)', async () => {
    const sys = fakeSystem();
    const work = mkdtempSync(join(tmpdir(), 'rollback-tree-'));
    const config = join(work, 'config.yaml');
    writeFileSync(config, 'model: old\n', { mode: 0o600 });
    const outcome = await applyOps(localExecutor, planOps(plans(config, 'true')), {
      commandLine: sys.commandLine,
      timeoutMs: 10_000,
      inSession: true,
    });
    expect(outcome.failure).toBeUndefined();
    expect(readFileSync(config, 'utf8')).toBe('model: new\n');
    expect(readdirSync(work)).toEqual(['config.yaml']);
  });

  it("puts back the failing instance's changes alone: an instance before it passed and stays", async () => {
    const sys = fakeSystem();
    const work = mkdtempSync(join(tmpdir(), 'rollback-tree-'));
    const a = join(work, 'a.yaml');
    const b = join(work, 'b.yaml');
    writeFileSync(a, 'model: old\n', { mode: 0o600 });
    writeFileSync(b, 'model: old\n', { mode: 0o600 });
    const named = (instance: string, unit: string, list: TaskPlan[]): TaskPlan[] =>
      list.map((plan) => ({
        ...plan,
        instance,
        changes: plan.changes.map((c) => (c.kind === 'wait-healthy' ? { ...c, unit } : c)),
      }));
    const ops = planOps([
      ...named('a', 'hermes-agent-a.service', plans(a, 'true')),
      ...named('b', 'hermes-agent-b.service', plans(b)),
    ]);
    const outcome = await applyOps(localExecutor, ops, {
      commandLine: sys.commandLine,
      timeoutMs: 10_000,
      inSession: true,
    });
    expect(outcome.failure && ops[outcome.failure.index]?.instance).toBe('b');
    expect(outcome.rollback).toEqual({});
    expect(readFileSync(a, 'utf8')).toBe('model: new\n');
    expect(readFileSync(b, 'utf8')).toBe('model: old\n');
    expect(readdirSync(work).sort()).toEqual(['a.yaml', 'b.yaml']);
    expect(readFileSync(sys.log, 'utf8').trim().split('\n')).toEqual([
      'stop -- hermes-agent-b.service',
      'daemon-reload',
      'start -- hermes-agent-b.service',
    ]);
  });
});
