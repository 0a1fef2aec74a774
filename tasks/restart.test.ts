import { describe, expect, it } from 'vitest';
import { defaultHermes, makeHost } from '../test/utils/host.js';
import { RESTART_TASKS, REPORTED_TASK_NAMES, TASK_NAMES, serviceAccess } from './index.js';
import { serviceTask } from './service.js';
import { freshFacts, planAll } from '../test/utils/facts.js';

describe('the restart task', () => {
  it('asks no fact, so a restart costs no read round trip', () => {
    for (const task of RESTART_TASKS) expect(task.facts(makeHost())).toEqual([]);
  });

  it('restarts the unit, checks health as a run does, then clears any owed restart', () => {
    const host = makeHost({ user: 'agent', healthCheck: { seconds: 7, command: 'exit 1' } });
    const [task] = RESTART_TASKS;
    expect(task?.plan(host, freshFacts(host), [])).toEqual([
      {
        kind: 'systemd',
        action: 'restart',
        unit: 'hermes-agent.service',
        reason: 'hermes-fleet restart',
      },
      {
        kind: 'wait-healthy',
        unit: 'hermes-agent.service',
        seconds: 7,
        user: 'agent',
        command: 'exit 1',
      },
      {
        kind: 'restart-pending',
        action: 'clear',
        path: '/run/hermes-fleet-restart-pending',
        unit: 'hermes-agent.service',
      },
    ]);
  });

  it("checks health with the very change a run's start makes", () => {
    const host = makeHost({ healthCheck: { seconds: 2, command: 'hermes --version' } });
    const runWait = planAll(host, freshFacts(host), [serviceTask])
      .flatMap((p) => p.changes)
      .find((c) => c.kind === 'wait-healthy');
    const restartWait = RESTART_TASKS[0]
      ?.plan(host, freshFacts(host), [])
      .find((c) => c.kind === 'wait-healthy');
    expect(runWait).toBeDefined();
    // The same check; only a run has a state before it to roll back to.
    expect(restartWait).toEqual({ ...runWait, rollback: undefined });
  });

  it('is reported under its own name, which --tags does not offer', () => {
    expect(TASK_NAMES).not.toContain('restart');
    expect(TASK_NAMES).not.toContain('rollback');
    expect(REPORTED_TASK_NAMES).toEqual([...TASK_NAMES, 'restart', 'rollback']);
  });
});

describe('serviceAccess', () => {
  it("names the unit, its journal, and the account with the unit's environment", () => {
    const access = serviceAccess(
      makeHost({ stateDir: '/srv/h/', workingDirectory: '/srv/h/ws', package: '/opt/p' }),
    );
    expect(access.unit).toBe('hermes-agent.service');
    expect(access.log).toEqual({ kind: 'journal', unit: 'hermes-agent.service' });
    expect(access.account).toEqual({
      user: 'hermes',
      cwd: '/srv/h/ws',
      env: [
        ['HOME', '/srv/h'],
        ['HERMES_HOME', '/srv/h/.hermes'],
        ['HERMES_MANAGED', 'true'],
        ['MESSAGING_CWD', '/srv/h/ws'],
        ['PATH', '/opt/p/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ],
    });
  });

  it("reads the container's log in container mode", () => {
    const container = { ...defaultHermes().container, enable: true, backend: 'podman' as const };
    expect(serviceAccess(makeHost({ container })).log).toEqual({
      kind: 'container',
      backend: 'podman',
      name: 'hermes-agent',
    });
  });
});
