import { describe, expect, it } from 'vitest';
import { failedHost } from '../../test/utils/run-results.js';
import type { HostResult, RunResult } from '../runner/types.js';
import { toJsonReport } from './json.js';
import { toJUnitXml } from './junit.js';
import { toLogLines } from './log.js';
import { formatHostFinished, formatTaskFinished } from './plain.js';
import { problemLine } from './recap.js';

/** web03 with instances: its tasks for instance work, failed in work/service. */
function withInstance(): HostResult {
  const host = failedHost();
  return {
    ...host,
    failedInstance: 'work',
    tasks: host.tasks.map((t) => ({ ...t, instance: 'work' })),
  };
}

const run = (host: HostResult): RunResult => ({
  mode: 'run',
  hosts: [host],
  durationMs: 1,
  interrupted: false,
  exitCode: 2,
});

describe('reports name the instance', () => {
  it('as instance/task in the plain lines, the recap and JUnit', () => {
    const host = withInstance();
    const service = host.tasks.find((t) => t.task === 'service');
    if (!service) throw new Error('no service task');
    expect(formatTaskFinished('web03', service, { verbose: 0, diff: false })[0]).toMatch(
      /^\[web03\] work\/service: failed/,
    );
    expect(formatHostFinished(host, true)).toMatch(/^\[web03\] failed in work\/service /);
    expect(problemLine(host)).toMatch(/^web03: failed in work\/service: /);
    expect(toJUnitXml(run(host))).toContain('name="work/service"');
  });

  it('as a field of its own in the JSON report and the log lines', () => {
    const report = toJsonReport(run(withInstance()), { diff: false });
    expect(report.hosts[0]).toMatchObject({ failedTask: 'service', failedInstance: 'work' });
    expect(report.hosts[0]?.tasks.every((t) => t.instance === 'work')).toBe(true);
    const lines = toLogLines(run(withInstance()), new Date(0))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { instance?: string });
    expect(lines.every((l) => l.instance === 'work')).toBe(true);
  });

  it('not at all for hermes: alone', () => {
    const host = failedHost();
    const report = toJsonReport(run(host), { diff: false });
    expect(JSON.stringify(report)).not.toContain('instance');
    expect(formatHostFinished(host, true)).toMatch(/^\[web03\] failed in service /);
  });
});
