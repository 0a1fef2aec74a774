import { describe, expect, it } from 'vitest';
import type { ExecRequest } from '../exec/executor.js';
import { RESTART_TASKS, TASKS } from '../../tasks/index.js';
import { makeHost } from '../../test/utils/host.js';
import { runHost, type HostSession } from './run-host.js';
import { noTraffic } from './types.js';

/** A host whose every command is an apply batch that succeeds; it records what it was sent. */
function applyingHost(): { session: HostSession; sent: { command: string; stdin: string }[] } {
  const sent: { command: string; stdin: string }[] = [];
  const session: HostSession = {
    stats: noTraffic(),
    warnings: [],
    close: () => undefined,
    exec: (command: string, request?: ExecRequest) => {
      const data = request?.stdin ?? '';
      const stdin = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : String(data);
      sent.push({ command, stdin });
      const ops = stdin.split('\n').filter((line) => /^\d+\t/.test(line));
      const stdout = `${ops.map((_, i) => `${i}\tok\n`).join('')}end\n`;
      request?.onStdout?.(Buffer.from(stdout));
      return Promise.resolve({
        exitCode: 0,
        stdout: Buffer.from(stdout),
        stderr: Buffer.alloc(0),
        durationMs: 1,
        timedOut: false,
      });
    },
  };
  return { session, sent };
}

describe('a task list that asks for no fact', () => {
  it('is planned without a read: restart costs the apply round trip alone', async () => {
    const { session, sent } = applyingHost();
    const phases: string[] = [];
    const result = await runHost(makeHost(), RESTART_TASKS, {
      check: false,
      selected: new Set(['restart']),
      observer: { hostPhase: (_host, phase) => phases.push(phase) },
      signal: new AbortController().signal,
      open: () => Promise.resolve({ session, become: false }),
      commandLine: (script) => script,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.stdin).toMatch(/\tsystemd\taction=restart\tunit=hermes-agent\.service\n/);
    expect(sent[0]?.stdin).toMatch(/\twait-healthy\t/);
    expect(phases).toEqual(['connecting', 'applying']);
    expect(result.status).toBe('changed');
    expect(result.tasks.map((t) => [t.task, t.status])).toEqual([['restart', 'changed']]);
  });

  it('while the run still reads first', async () => {
    const { session, sent } = applyingHost();
    await runHost(makeHost(), TASKS, {
      check: true,
      selected: new Set(TASKS.map((t) => t.name)),
      observer: {},
      signal: new AbortController().signal,
      open: () => Promise.resolve({ session, become: false }),
      commandLine: (script) => script,
    });
    // The fake answers no fact request, so the read fails; what matters is that it was sent.
    expect(sent).toHaveLength(1);
    expect(sent[0]?.stdin).toMatch(/\tunit\t/);
  });
});
