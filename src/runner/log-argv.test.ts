import { describe, expect, it } from 'vitest';
import { logArgv } from './log-argv.js';

describe('logArgv', () => {
  it("reads the unit's system journal, -n lines, in ISO time", () => {
    expect(
      logArgv({ kind: 'journal', unit: 'hermes-agent.service' }, { lines: 50, follow: false }),
    ).toEqual([
      'journalctl',
      '--system',
      '--unit=hermes-agent.service',
      '--no-pager',
      '--output=short-iso',
      '--lines=50',
    ]);
  });

  it('keeps --since in the same word, so a value starting with - stays a value', () => {
    expect(
      logArgv({ kind: 'journal', unit: 'u' }, { lines: 5, since: '-1h', follow: true }).slice(-2),
    ).toEqual(['--since=-1h', '--follow']);
  });

  it("reads the container's log through its runtime in container mode", () => {
    expect(
      logArgv(
        { kind: 'container', backend: 'podman', name: 'hermes-agent' },
        { lines: 10, since: '10m', follow: true },
      ),
    ).toEqual(['podman', 'logs', '--tail=10', '--since=10m', '--follow', 'hermes-agent']);
  });
});
