import { describe, expect, it } from 'vitest';
import type { RunResult } from '../runner/types.js';
import { CHECK_MODE_NOTE, ansibleColumns, formatRecap, recapStats } from './recap.js';
import {
  changedHost,
  failedHost,
  okHost,
  sampleRun,
  unreachableHost,
} from '../../test/utils/run-results.js';

const STARS = '*'.repeat(69);

describe('formatRecap', () => {
  it("matches Ansible's PLAY RECAP columns", () => {
    expect(formatRecap(sampleRun(), false)).toBe(
      [
        '',
        `PLAY RECAP ${STARS}`,
        'web01                      : ok=6    changed=5    unreachable=0    failed=0    skipped=0',
        'web02                      : ok=6    changed=0    unreachable=0    failed=0    skipped=0',
        'web03                      : ok=4    changed=0    unreachable=0    failed=1    skipped=1',
        'web04                      : ok=0    changed=0    unreachable=1    failed=0    skipped=0',
        'web05                      : ok=0    changed=0    unreachable=0    failed=0    skipped=0',
        '',
        'web03: failed in service: hermes-agent.service did not stay active',
        '    last log: boom',
        'web04: unreachable: connect ETIMEDOUT 10.0.0.4:22',
        '',
      ].join('\n'),
    );
  });

  it('is 80 columns wide in its banner, like Ansible off a terminal', () => {
    const banner = formatRecap(sampleRun(), false).split('\n')[1] ?? '';
    expect(banner).toHaveLength(80);
    expect(formatRecap(sampleRun(), false, ansibleColumns(120)).split('\n')[1]).toHaveLength(120);
    expect(ansibleColumns(40)).toBe(79);
  });

  it('sorts hosts by name and does not cut long names', () => {
    const run: RunResult = {
      ...sampleRun(),
      hosts: [okHost('zeta'), okHost('a-very-long-host-name.example.com')],
    };
    const lines = formatRecap(run, false).split('\n');
    expect(lines[2]).toBe(
      'a-very-long-host-name.example.com : ok=6    changed=0    unreachable=0    failed=0    skipped=0',
    );
    expect(lines[3]?.startsWith('zeta                       : ')).toBe(true);
  });

  it('keeps counts of 1000 and more aligned the way %-4s does', () => {
    const many = okHost('big');
    many.tasks = Array.from({ length: 12345 }, () => ({
      task: 'docs' as const,
      status: 'ok' as const,
      durationMs: 1,
      changes: [],
    }));
    const line = formatRecap({ ...sampleRun(), hosts: [many] }, false).split('\n')[2];
    expect(line).toBe(
      'big                        : ok=12345 changed=0    unreachable=0    failed=0    skipped=0',
    );
  });

  it('colours like Ansible only when asked: host by outcome, counts that are not 0', () => {
    const coloured = formatRecap(
      { ...sampleRun(), hosts: [changedHost(), failedHost(), okHost()] },
      true,
    );
    const lines = coloured.split('\n');
    const [changed, ok, failed] = [lines[2] ?? '', lines[3] ?? '', lines[4] ?? ''];
    expect(changed.startsWith('\u001b[33mweb01\u001b[39m' + ' '.repeat(21) + ' : ')).toBe(true);
    expect(changed).toContain(
      '\u001b[32mok=6   \u001b[39m \u001b[33mchanged=5   \u001b[39m unreachable=0    failed=0    skipped=0',
    );
    expect(failed.startsWith('\u001b[31mweb03\u001b[39m')).toBe(true);
    expect(failed).toContain('\u001b[31mfailed=1   \u001b[39m \u001b[36mskipped=1\u001b[39m');
    expect(ok.startsWith('\u001b[32mweb02\u001b[39m')).toBe(true);
    expect(formatRecap(sampleRun(), false).includes('\u001b')).toBe(false);
  });

  it('says when the run was interrupted', () => {
    const text = formatRecap({ ...sampleRun(), interrupted: true }, false);
    expect(text).toContain(
      'Interrupted: hosts finished the task they were in and started no other.',
    );
  });

  it('says after a check that nothing was applied, and only then', () => {
    const check = formatRecap(sampleRun('check'), false).split('\n');
    expect(check.slice(-3)).toEqual(['', CHECK_MODE_NOTE, '']);
    expect(formatRecap(sampleRun('run'), false)).not.toContain('CHECK MODE');
  });

  it('escapes control characters in host messages', () => {
    const host = unreachableHost();
    host.message = 'banner \u001b[2J cleared';
    const text = formatRecap({ ...sampleRun(), hosts: [host] }, false);
    expect(text).toContain('web04: unreachable: banner \\x1b[2J cleared');
  });
});

describe('recapStats', () => {
  it('counts ok as tasks that ran, failed as at least 1 for a failed host', () => {
    expect(recapStats(changedHost())).toEqual({
      ok: 6,
      changed: 5,
      unreachable: 0,
      failed: 0,
      skipped: 0,
    });
    const failedEarly = { ...failedHost(), tasks: [] };
    expect(recapStats(failedEarly)).toEqual({
      ok: 0,
      changed: 0,
      unreachable: 0,
      failed: 1,
      skipped: 0,
    });
    expect(recapStats(unreachableHost()).unreachable).toBe(1);
  });
});
