import { stdinText } from '../../test/utils/stdin.js';
import { describe, expect, it } from 'vitest';
import type { Executor } from '../exec/executor.js';
import type { TaskName } from '../plan/types.js';
import { TASKS } from '../../tasks/index.js';
import { makeHost } from '../../test/utils/host.js';
import { readAndPlan } from './read-and-plan.js';

const RUNNING_UNIT = Buffer.from(
  'LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n',
).toString('base64');

// A host with the gateway running and nothing else: every other request is answered as absent.
const runningHost: Executor = {
  exec: (_command, request) => {
    const answers = stdinText(request?.stdin)
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [index = '', kind] = line.split('\t');
        return kind === 'unit' ? `${index}\tunit\t${RUNNING_UNIT}` : `${index}\tabsent`;
      });
    const stdout = `whoami\t0\n${answers.map((a) => `${a}\n`).join('')}end\n`;
    return Promise.resolve({
      exitCode: 0,
      stdout: Buffer.from(stdout),
      stderr: Buffer.alloc(0),
      durationMs: 1,
      timedOut: false,
    });
  },
};

describe('readAndPlan', () => {
  it('notes the restart a --tags merge run owes the running gateway', async () => {
    const selected = new Set<TaskName>(['merge']);
    const read = await readAndPlan(runningHost, makeHost(), TASKS, {
      selected,
      commandLine: (script) => script,
    });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    for (const plan of read.plans) {
      expect(plan.changes.length > 0).toBe(plan.task === 'merge');
    }
    const merge = read.plans.find((plan) => plan.task === 'merge');
    expect(merge?.changes[0]).toMatchObject({ kind: 'restart-pending', action: 'set' });
  });
});
