import { describe, expect, it } from 'vitest';
import { planOps } from '../src/apply/encode-ops.js';
import { checkOneInstanceEach } from '../src/cli/day2.js';
import {
  asInstance,
  hostInstances,
  type HermesSettings,
  type HostSpec,
} from '../src/inventory/types.js';
import { statusEntries } from '../src/report/status.js';
import { selectInstances } from '../src/runner/select-hosts.js';
import type { Change, TaskPlan } from '../src/plan/types.js';
import { converge, file, freshFacts, planAll } from '../test/utils/facts.js';
import { defaultHermes, makeHost } from '../test/utils/host.js';
import { serviceAccess, TASK_NAMES } from './index.js';
import type { PluginSource } from '../src/inventory/types.js';

function instance(name: string, extra: Partial<HermesSettings> = {}): HermesSettings {
  const stateDir = `/var/lib/hermes-${name}`;
  return {
    ...defaultHermes(),
    instance: name,
    stateDir,
    workingDirectory: `${stateDir}/workspace`,
    ...extra,
  };
}

function hostOf(...instances: HermesSettings[]): HostSpec {
  return {
    name: 'web1',
    groups: ['all'],
    ssh: {},
    hermes: instances[0] as HermesSettings,
    instances,
  };
}

const changed = (plans: readonly TaskPlan[]) =>
  plans.filter((p) => p.changes.length > 0).map((p) => `${p.instance ?? ''}/${p.task}`);

const restarts = (plans: readonly TaskPlan[]) =>
  plans.flatMap((p) =>
    p.changes.flatMap((c: Change) =>
      c.kind === 'systemd' && (c.action === 'restart' || c.action === 'start') ? [c.unit] : [],
    ),
  );

describe('several instances on one host', () => {
  const work = instance('work', { settings: { model: 'w' } });
  const personal = instance('personal', { user: 'me', group: 'me', settings: { model: 'p' } });
  const host = hostOf(personal, work);

  it("plans each instance's tasks in turn, with its own unit, files and generations", () => {
    const plans = planAll(host, freshFacts(host));
    expect(plans.map((p) => `${p.instance ?? ''}/${p.task}`)).toEqual([
      ...TASK_NAMES.map((t) => `personal/${t}`),
      ...TASK_NAMES.map((t) => `work/${t}`),
    ]);
    expect(restarts(plans)).toEqual(['hermes-agent-personal.service', 'hermes-agent-work.service']);
    const paths = plans.flatMap((p) => p.changes.flatMap((c) => ('path' in c ? [c.path] : [])));
    expect(paths).toContain('/etc/systemd/system/hermes-agent-work.service');
    expect(paths).toContain('/var/lib/hermes-work/.hermes/config.yaml');
    expect(paths).toContain('/var/lib/hermes-personal/.hermes/config.yaml');
    expect(paths).toContain('/var/lib/hermes-fleet/instances/work/generations');
    expect(paths).not.toContain('/etc/systemd/system/hermes-agent.service');
  });

  it('creates an account that two instances share once', () => {
    const shared = hostOf(instance('a'), instance('b'));
    const plans = planAll(shared, freshFacts(shared));
    const accounts = plans.flatMap((p) =>
      p.changes.flatMap((c) =>
        c.kind === 'user-create' || c.kind === 'group-create' ? [`${p.instance} ${c.kind}`] : [],
      ),
    );
    expect(accounts).toEqual(['a group-create', 'a user-create']);
    // The second instance's daemon-reload is its own: its unit is restarted after it.
    const reloads = plans.flatMap((p) =>
      p.changes.flatMap((c) =>
        c.kind === 'systemd' && c.action === 'daemon-reload' ? [p.instance] : [],
      ),
    );
    expect(reloads).toEqual(['a', 'b']);
  });

  it('plans nothing once converged, and restarts only the instance that changed', () => {
    const synced = converge(host, freshFacts(host));
    expect(changed(planAll(host, synced))).toEqual([]);
    const edited = hostOf(personal, { ...work, settings: { model: 'w2' } });
    const plans = planAll(edited, synced);
    expect(changed(plans)).toEqual(['work/merge', 'work/service']);
    expect(restarts(plans)).toEqual(['hermes-agent-work.service']);
  });

  it('arms the rollback per instance, and names the instance on each task marker', () => {
    const synced = converge(host, freshFacts(host));
    // personal is deployed already; newcomer is a first deploy, with nothing to go back to.
    const newcomer = instance('newcomer');
    const grown = hostOf(personal, { ...work, settings: { model: 'w2' } }, newcomer);
    const fresh = freshFacts(grown);
    const facts = {
      ...synced,
      paths: new Map([...fresh.paths, ...synced.paths]),
      units: new Map([...fresh.units, ...synced.units]),
      containers: new Map([...fresh.containers, ...synced.containers]),
    };
    const ops = planOps(planAll(grown, facts));
    const markers = ops.filter((op) => op.name === 'task').map((op) => op.fields.instance);
    // personal's plan writes the record of the host's instances (newcomer joins it).
    expect(new Set(markers)).toEqual(new Set(['personal', 'work', 'newcomer']));
    const armed = ops.filter((op) => op.fields.rollback === '1').map((op) => op.instance);
    expect(new Set(armed)).toEqual(new Set(['work']));
  });
});

describe('--instance and the rows per instance', () => {
  const work = instance('work', { settings: { model: 'w' } });
  const personal = instance('personal', { user: 'me', group: 'me' });
  const host = hostOf(personal, work);

  it('keeps the named instances on the hosts that have them, and drops the others', () => {
    const legacy = { ...makeHost(), name: 'old' };
    const kept = selectInstances([host, legacy], ['work']);
    expect(kept.map((h) => h.name)).toEqual(['web1']);
    expect(hostInstances(kept[0] as HostSpec).map((h) => h.instance)).toEqual(['work']);
    expect(kept[0]?.hermes.instance).toBe('work');
    expect(selectInstances([host, legacy], undefined)).toEqual([host, legacy]);
    expect(() => selectInstances([host], ['nope'])).toThrow(
      '--instance nope: no selected host has an instance of that name',
    );
  });

  it('refuses logs and exec --as service on a host with several instances selected', () => {
    expect(() => {
      checkOneInstanceEach([host], 'logs');
    }).toThrow('logs reaches one gateway per host, and web1 has instances personal, work');
    expect(() => {
      checkOneInstanceEach(selectInstances([host], ['work']), 'logs');
    }).not.toThrow();
  });

  it('gives status a row per instance, each with its own unit and drift', () => {
    const synced = converge(host, freshFacts(host));
    const edited = hostOf(personal, { ...work, settings: { model: 'w2' } });
    const read = {
      ok: true as const,
      facts: { ...synced, uid: 0 },
      plans: planAll(edited, synced),
    };
    const rows = statusEntries(edited, read, { roundTrips: 1, channels: 1, connections: 1 }, 1);
    expect(rows.map((r) => [r.instance, r.status, r.drift.map((d) => d.task)])).toEqual([
      ['personal', 'ok', []],
      ['work', 'drift', ['merge', 'service']],
    ]);
    expect(serviceAccess(asInstance(host, work))).toMatchObject({
      unit: 'hermes-agent-work.service',
      log: { kind: 'journal', unit: 'hermes-agent-work.service' },
      account: { user: 'hermes', cwd: '/var/lib/hermes-work/workspace' },
    });
  });
});

describe('an instance dropped from the inventory', () => {
  const a = instance('a');
  const b = instance('b', {
    container: { ...defaultHermes().container, enable: true, backend: 'podman' },
  });
  const both = hostOf(a, instance('b'));

  it('is stopped, disabled and its unit removed on the next run; its state is kept', () => {
    const synced = converge(both, freshFacts(both));
    expect(changed(planAll(both, synced))).toEqual([]);
    const record = synced.paths.get('/var/lib/hermes-fleet/instances.json');
    expect(record?.kind === 'file' ? JSON.parse(record.text ?? '') : null).toMatchObject({
      instances: { a: { unit: 'hermes-agent-a.service' }, b: { stateDir: '/var/lib/hermes-b' } },
    });
    const onlyA = hostOf(a);
    const plans = planAll(onlyA, synced);
    const teardown = plans.flatMap((p) =>
      p.changes.map((c) => `${p.instance ?? ''}/${p.task} ${summary(c)}`),
    );
    expect(teardown).toEqual([
      'a/service systemd stop hermes-agent-b.service',
      'a/service systemd disable hermes-agent-b.service',
      'a/service file /var/lib/hermes-fleet/instances.json',
      'a/service remove /etc/systemd/system/hermes-agent-b.service',
      'a/service systemd daemon-reload hermes-agent-b.service',
    ]);
    // Nothing under its stateDir is touched.
    expect(teardown.some((line) => line.includes('/var/lib/hermes-b'))).toBe(false);
    const after = converge(onlyA, synced);
    expect(changed(planAll(onlyA, after))).toEqual([]);
  });

  it('takes a container instance down with its container and create script', () => {
    const withContainer = hostOf(a, b);
    const record = JSON.stringify({
      version: 1,
      instances: {
        a: {
          unit: 'hermes-agent-a.service',
          stateDir: '/var/lib/hermes-a',
          workingDirectory: '/var/lib/hermes-a/workspace',
          container: null,
        },
        b: {
          unit: 'hermes-agent-b.service',
          stateDir: '/var/lib/hermes-b',
          workingDirectory: '/var/lib/hermes-b/workspace',
          container: {
            backend: 'podman',
            name: 'hermes-agent-b',
            createFile: '/usr/local/lib/hermes-fleet/container-create-b',
          },
        },
      },
    });
    const onlyA = hostOf(a);
    const facts = converge(onlyA, freshFacts(onlyA));
    facts.paths.set(
      '/var/lib/hermes-fleet/instances.json',
      file(`${record}\n`, { mode: 0o600, user: 'root', group: 'root' }),
    );
    expect(withContainer.instances).toHaveLength(2);
    const lines = planAll(onlyA, facts).flatMap((p) => p.changes.map(summary));
    expect(lines).toEqual([
      'systemd stop hermes-agent-b.service',
      'systemd disable hermes-agent-b.service',
      'file /var/lib/hermes-fleet/instances.json',
      'container-remove hermes-agent-b',
      'remove /usr/local/lib/hermes-fleet/container-create-b',
      'remove /etc/systemd/system/hermes-agent-b.service',
      'systemd daemon-reload hermes-agent-b.service',
    ]);
  });

  it('takes down the unit of hermes: alone once the inventory names instances', () => {
    const legacy = makeHost();
    const deployed = converge(legacy, freshFacts(legacy));
    const now = hostOf(a);
    const fresh = freshFacts(now);
    const facts = {
      ...deployed,
      paths: new Map([...fresh.paths, ...deployed.paths]),
      units: new Map([...fresh.units, ...deployed.units]),
    };
    const lines = planAll(now, facts)
      .flatMap((p) => p.changes.map(summary))
      .filter((line) => line.includes('hermes-agent.service'));
    expect(lines).toEqual([
      'systemd stop hermes-agent.service',
      'systemd disable hermes-agent.service',
      'remove /etc/systemd/system/hermes-agent.service',
      'systemd daemon-reload hermes-agent.service',
    ]);
  });

  it('with --purge-removed-instances, its state directory and generations go too, named in the plan', () => {
    const synced = converge(both, freshFacts(both));
    const purging = { ...hostOf(a), purgeRemovedInstances: true };
    const removals = planAll(purging, synced).flatMap((p) =>
      p.changes.flatMap((c) => (c.kind === 'tree-remove' ? [`${c.path} (${c.why})`] : [])),
    );
    expect(removals).toEqual([
      '/var/lib/hermes-b (the state of instance b, which is no longer in the inventory: --purge-removed-instances)',
      '/var/lib/hermes-fleet/instances/b (the generations of instance b)',
    ]);
    const after = converge(purging, synced);
    expect(after.paths.get('/var/lib/hermes-b/.hermes/config.yaml')?.kind).toBe('absent');
    expect(changed(planAll(purging, after))).toEqual([]);
    // A renamed instance that kept the dropped one's stateDir: live data, never purged.
    const renamed = {
      ...hostOf(
        a,
        instance('c', {
          stateDir: '/var/lib/hermes-b',
          workingDirectory: '/var/lib/hermes-b/workspace',
        }),
      ),
      purgeRemovedInstances: true,
    };
    const fresh = freshFacts(renamed);
    const facts = {
      ...synced,
      paths: new Map([...fresh.paths, ...synced.paths]),
      units: new Map([...fresh.units, ...synced.units]),
    };
    expect(() => planAll(renamed, facts)).toThrow(
      'not purging /var/lib/hermes-b of instance b: an instance of the inventory uses /var/lib/hermes-b',
    );
  });

  it('is left alone while --instance narrows the host', () => {
    const synced = converge(both, freshFacts(both));
    const narrowed = { ...hostOf(a), onlyInstances: ['a'] };
    expect(changed(planAll(narrowed, synced))).toEqual([]);
  });
});

function summary(c: Change): string {
  switch (c.kind) {
    case 'systemd':
      return `systemd ${c.action} ${c.unit}`;
    case 'container-remove':
      return `container-remove ${c.name}`;
    default:
      return `${c.kind}${'path' in c ? ` ${c.path}` : ''}`;
  }
}

describe('what a host has one of, with several instances', () => {
  const plugin: PluginSource = {
    name: 'notes',
    path: '/tmp/notes.tar',
    written: 'notes.tar',
    sha256: 'ab'.repeat(32),
    id: 'ab'.repeat(8),
    size: 10,
    format: 'tar',
    strip: 0,
    bytes: () => Promise.resolve(Buffer.alloc(0)),
  };

  it("leaves the CLI link and the login shells' HERMES_HOME to the instance that sets them", () => {
    const shared = hostOf(instance('a', { addToSystemPackages: true }), instance('b'));
    const after = converge(shared, freshFacts(shared));
    const again = planAll(shared, after).flatMap((p) => p.changes);
    expect(again).toEqual([]);
    const first = planAll(shared, freshFacts(shared)).flatMap((p) => p.changes);
    const hostWide = first.filter(
      (c) =>
        'path' in c && ['/usr/local/bin/hermes', '/etc/profile.d/hermes-fleet.sh'].includes(c.path),
    );
    expect(hostWide.map((c) => c.kind)).toEqual(['symlink', 'file']);
  });

  it("keeps a plugin tree in the host's store that another instance links", () => {
    const two = hostOf(instance('a', { extraPlugins: [plugin] }), instance('b'));
    const after = converge(two, freshFacts(two));
    const removed = planAll(two, after)
      .flatMap((p) => p.changes)
      .filter((c) => c.kind === 'release-remove');
    expect(removed).toEqual([]);
  });
});
