import { describe, expect, it } from 'vitest';
import { createPlainObserver, type PlainOptions } from './plain.js';
import {
  expectNoSecret,
  failedHost,
  replay,
  sampleRun,
  unreachableHost,
} from '../../test/utils/run-results.js';

function run(options: PlainOptions, result = sampleRun()): string {
  const writes: string[] = [];
  replay(createPlainObserver({ write: (text) => writes.push(text) }, options), result);
  for (const text of writes) expect(text.endsWith('\n')).toBe(true);
  return writes.join('');
}

describe('plain observer', () => {
  it('prints one prefixed line per task and host', () => {
    const out = run({ verbose: 0, diff: false });
    expect(out.split('\n').slice(0, 8)).toEqual([
      '[web01] users: changed (0.12s)',
      '[web01] dirs: changed (0.12s)',
      '[web01] merge: changed (0.12s)',
      '[web01] secrets: changed (0.12s)',
      '[web01] docs: ok (0.12s)',
      '[web01] service: changed (0.12s)',
      '[web01] changed (1.23s): users, dirs, merge, secrets, service',
      '[web02] users: ok (0.12s)',
    ]);
    expect(out).toContain(
      '[web03] docs: skipped: no documents\n' +
        '[web03] service: failed (0.12s): hermes-agent.service did not stay active\n' +
        '[web03]     last log: boom\n' +
        '[web03] failed in service (2.10s)\n',
    );
    expect(out).toContain('[web04] unreachable: connect ETIMEDOUT 10.0.0.4:22\n');
    expect(out).toContain('[web05] skipped: not started: interrupted\n');
    expect(out).not.toContain('connecting');
    expect(out).not.toContain('commands');
  });

  it('repeats the failure on the host line when no task showed it', () => {
    const host = {
      ...failedHost(),
      tasks: [],
      failedTask: 'merge' as const,
      message: 'config.yaml is not YAML',
    };
    const out = run({ verbose: 0, diff: false }, { ...sampleRun(), hosts: [host] });
    expect(out).toBe('[web03] failed in merge (2.10s): config.yaml is not YAML\n');
  });

  it('under -v adds phases, each change and level-1 detail', () => {
    const out = run({ verbose: 1, diff: false });
    expect(out).toContain('[web01] connecting\n[web01] reading facts\n');
    expect(out).toContain('[web01]   users: 2 commands in 0.05s\n');
    expect(out).not.toContain('$ stat');
    expect(out).toContain(
      '[web01] users: changed (0.12s)\n' +
        '[web01]   create group hermes\n' +
        '[web01]   create user hermes (home /var/lib/hermes, shell /bin/bash)\n',
    );
    expect(out).toContain(
      '[web01] service: changed (0.12s)\n' +
        '[web01]   restart hermes-agent.service (config.yaml changed)\n' +
        '[web01]   wait until hermes-agent.service is healthy (3s)\n',
    );
  });

  it('under -vv also the commands', () => {
    expect(run({ verbose: 2, diff: false })).toContain('[web01]   $ stat -c %a users\n');
  });

  it('with diff prints the diffs after the task line, secrets by key only', () => {
    const out = run({ verbose: 0, diff: true });
    expect(out).toContain(
      '[web01] merge: changed (0.12s)\n' +
        'web01:/var/lib/hermes/.hermes/config.yaml: mode 0600 → 0640\n' +
        '--- web01:/var/lib/hermes/.hermes/config.yaml (before)\n',
    );
    expect(out).toContain('~ OPENROUTER_API_KEY (secret changed)\n');
    expect(out).toContain('~ providers (secret changed)\n');
    expectNoSecret(out);
  });

  it('never writes an escape code or a secret, at any verbosity', () => {
    const hostile = unreachableHost('web\u001b[31m06');
    hostile.message = 'no route \u001b]0;title\u0007';
    for (const verbose of [0, 1, 2]) {
      for (const diff of [false, true]) {
        const out = run(
          { verbose, diff },
          { ...sampleRun(), hosts: [...sampleRun().hosts, hostile] },
        );
        expect(out.includes('\u001b')).toBe(false);
        expect(out.includes('\u0007')).toBe(false);
        expectNoSecret(out);
      }
    }
  });
});
