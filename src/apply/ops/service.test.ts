import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../../exec/local-executor.js';
import type { TaskPlan } from '../../plan/types.js';
import { quote } from '../../exec/quote.js';
import { applyOps } from '../apply.js';
import { planOps } from '../encode-ops.js';

/**
 * The `wait` operation run by a real local shell, with systemctl, journalctl and runuser
 * replaced by small scripts first on PATH: a unit that is up, and a log to show.
 */
function fakeSystem(): { dir: string; commandLine: (script: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'wait-op-'));
  const tool = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  };
  tool(
    'systemctl',
    'case "$1" in is-active) echo active ;; show) [ "$3" = MainPID ] && echo 42 || echo 0 ;; esac',
  );
  tool('journalctl', 'echo "gateway said: listening"');
  // runuser -u USER -- /bin/sh -c CMD: record the user, run the rest.
  tool('runuser', `printf '%s' "$2" > ${quote(join(dir, 'ran-as'))}; shift 3; exec "$@"`);
  return {
    dir,
    commandLine: (script) => `PATH=${quote(dir)}:"$PATH" sh -c ${quote(script)}`,
  };
}

function waitPlan(command?: string): TaskPlan[] {
  return [
    {
      task: 'service',
      changes: [
        {
          kind: 'wait-healthy',
          unit: 'hermes-agent.service',
          seconds: 0,
          user: 'hermes',
          ...(command !== undefined ? { command } : {}),
        },
      ],
    },
  ];
}

describe('the health wait (apply batch, local shell)', () => {
  it('runs the health command as the hermes user and fails with the unit log when it fails', async () => {
    const system = fakeSystem();
    const ops = planOps(waitPlan('echo "not ready" >&2; false'));
    const outcome = await applyOps(localExecutor, ops, {
      commandLine: system.commandLine,
      timeoutMs: 10_000,
      inSession: true,
    });
    expect(readFileSync(join(system.dir, 'ran-as'), 'utf8')).toBe('hermes');
    expect(outcome.failure && ops[outcome.failure.index]?.task).toBe('service');
    expect(outcome.failure?.message).toBe(
      'health check command failed as hermes (exit 1): not ready\n--- last log lines ---\ngateway said: listening',
    );
  });

  it('says the exit code when the command printed nothing', async () => {
    const system = fakeSystem();
    const outcome = await applyOps(localExecutor, planOps(waitPlan('exit 7')), {
      commandLine: system.commandLine,
      timeoutMs: 10_000,
      inSession: true,
    });
    expect(outcome.failure?.message).toBe(
      'health check command failed as hermes (exit 7)\n--- last log lines ---\ngateway said: listening',
    );
  });

  it('passes when the command exits 0, and without a command', async () => {
    const system = fakeSystem();
    for (const command of ['test -d /', undefined]) {
      const outcome = await applyOps(localExecutor, planOps(waitPlan(command)), {
        commandLine: system.commandLine,
        timeoutMs: 10_000,
        inSession: true,
      });
      expect(outcome.failure).toBeUndefined();
      expect(outcome.incomplete).toBeUndefined();
    }
  });
});
