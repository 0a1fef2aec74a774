import { describe, expect, it } from 'vitest';
import { RESTART_TASKS, TASKS } from '../../tasks/index.js';
import { makeHost } from '../../test/utils/host.js';
import { fakeSession } from '../../test/utils/fake-session.js';
import { runHost } from './run-host.js';

describe('a task list that asks for no fact', () => {
  it('is planned without a read: restart costs the apply round trip alone', async () => {
    const { session, sent } = fakeSession();
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
    const { session, sent } = fakeSession();
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
