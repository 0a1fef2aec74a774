import { recordGeneration } from './lib/generations.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UnitFact } from '../src/facts/types.js';
import type { HermesSettings } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change, TaskPlan } from '../src/plan/types.js';
import { ABSENT, UNIT_RUNNING, bare, dir, file, makeFacts, symlink } from '../test/utils/facts.js';
import type { FactsInput } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { UNIT_FILE_ATTRS, serviceTask } from './service.js';
import { renderNativeUnit } from './lib/unit-file.js';
import { RESTART_PENDING, markRestartPending } from './lib/restart-pending.js';

const BIN = '/opt/hermes/bin/hermes';
const UNIT = '/etc/systemd/system/hermes-agent.service';
const LINK = '/usr/local/bin/hermes';
const EXEC = bare({ mode: 0o755, user: 'root', group: 'root' });

const EXPECTED_UNIT = `# Managed by hermes-fleet (the unit of hermes-agent's NixOS module); edits are overwritten.
[Unit]
Description=Hermes Agent Gateway
After=network-online.target
Wants=network-online.target

[Service]
User=hermes
Group=hermes
WorkingDirectory=/var/lib/hermes/workspace
Environment="HOME=/var/lib/hermes"
Environment="HERMES_HOME=/var/lib/hermes/.hermes"
Environment="HERMES_MANAGED=true"
Environment="MESSAGING_CWD=/var/lib/hermes/workspace"
Environment="PATH=/opt/hermes/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ExecStart=/opt/hermes/bin/hermes gateway
Restart=always
RestartSec=5
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=false
ReadWritePaths=/var/lib/hermes
PrivateTmp=true

[Install]
WantedBy=multi-user.target
`;

interface Setup {
  hermes?: Partial<HermesSettings>;
  unit?: Partial<UnitFact>;
  unitText?: string | null;
  paths?: NonNullable<FactsInput['paths']>;
  earlier?: TaskPlan[];
}

function plan(setup: Setup = {}): Change[] {
  const host = makeHost(setup.hermes);
  const unitText = setup.unitText === undefined ? renderNativeUnit(host.hermes) : setup.unitText;
  const facts = makeFacts({
    host,
    tasks: [serviceTask],
    paths: {
      [BIN]: EXEC,
      ...(unitText === null ? {} : { [UNIT]: file(unitText, UNIT_FILE_ATTRS) }),
      ...setup.paths,
    },
    unit: setup.unit ?? UNIT_RUNNING,
  });
  return serviceTask.plan(host, facts, setup.earlier ?? []);
}

const kinds = (changes: Change[]) => changes.map((c) => (c.kind === 'systemd' ? c.action : c.kind));

function earlierFile(task: TaskPlan['task'], path: string): TaskPlan {
  return {
    task,
    changes: [{ kind: 'file', path, body: { text: 'x' }, attrs: UNIT_FILE_ATTRS, before: ABSENT }],
  };
}

const WAIT = { kind: 'wait-healthy', unit: 'hermes-agent.service', seconds: 3, user: 'hermes' };
/** The generation a healthy change records (tasks/lib/generations.ts), on the default host. */
const GEN = recordGeneration(makeHost().hermes);
const CLEAR_PENDING = {
  kind: 'restart-pending',
  action: 'clear',
  path: RESTART_PENDING,
  unit: 'hermes-agent.service',
};

describe('service unit file', () => {
  it('renders the module unit', () => {
    expect(renderNativeUnit(makeHost().hermes)).toBe(EXPECTED_UNIT);
  });

  it('quotes hostile extraArgs for systemd', () => {
    const text = renderNativeUnit(
      makeHost({
        extraArgs: ['--name', 'my bot', '$(rm -rf /)', '`id`', '50%', 'a\\b', ';', 'say "hi"'],
      }).hermes,
    );
    expect(text).toContain(
      'ExecStart=/opt/hermes/bin/hermes gateway --name "my bot" "$$(rm -rf /)" "`id`" "50%%" "a\\\\b" ";" "say \\"hi\\""\n',
    );
  });

  it('escapes % in paths and quotes paths with spaces', () => {
    const text = renderNativeUnit(
      makeHost({ stateDir: '/srv/my state', workingDirectory: '/srv/100%' }).hermes,
    );
    expect(text).toContain('WorkingDirectory=/srv/100%%\n');
    // workingDirectory lies outside stateDir: writable too, as the module lists it.
    expect(text).toContain('ReadWritePaths="/srv/my state" "/srv/100%%"\n');
    expect(text).toContain('Environment="MESSAGING_CWD=/srv/100%%"\n');
  });

  it('refuses values a unit cannot carry', () => {
    expect(() => renderNativeUnit(makeHost({ package: 'opt/hermes' }).hermes)).toThrow(/absolute/);
    expect(() => renderNativeUnit(makeHost({ stateDir: '/srv/"x"' }).hermes)).toThrow(PlanError);
    expect(() =>
      renderNativeUnit(makeHost({ workingDirectory: '/srv/a\nExecStartPre=/bin/evil' }).hermes),
    ).toThrow(PlanError);
    expect(() => renderNativeUnit(makeHost({ user: 'a b' }).hermes)).toThrow(PlanError);
    // restart is typed as systemd's Restart= values (the inventory schema checks them once).
    // @ts-expect-error 'sometimes' is not a restart policy
    makeHost({ restart: 'sometimes' });
    expect(() => renderNativeUnit(makeHost({ restartSec: -1 }).hermes)).toThrow(PlanError);
  });

  const analyze = '/usr/bin/systemd-analyze';
  it.skipIf(!existsSync(analyze))(
    'is accepted by systemd-analyze verify, hostile arguments included',
    () => {
      const root = mkdtempSync(join(tmpdir(), 'unit-'));
      mkdirSync(join(root, 'pkg/bin'), { recursive: true });
      writeFileSync(join(root, 'pkg/bin/hermes'), '#!/bin/sh\n');
      chmodSync(join(root, 'pkg/bin/hermes'), 0o755);
      const hermes = makeHost({
        package: join(root, 'pkg'),
        user: 'root',
        group: 'root',
        stateDir: join(root, 'state dir'),
        workingDirectory: join(root, 'work 100%'),
        extraArgs: [
          '--x',
          'a b',
          '$(id)',
          '${HOME}',
          '`id`',
          '%h',
          '\\',
          ';',
          '"',
          "'",
          'new\nline',
          '',
        ],
      }).hermes;
      const unitPath = join(root, 'hermes-agent.service');
      writeFileSync(unitPath, renderNativeUnit(hermes));
      const out = execFileSync(analyze, ['verify', '--man=no', unitPath], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
      expect(out).toBe('');
    },
  );
});

describe('service plan', () => {
  it('requests the package binary, the link, the unit file, the unit, container leftovers and the instances record', () => {
    expect(serviceTask.facts(makeHost())).toEqual([
      { kind: 'path', path: BIN },
      { kind: 'path', path: LINK },
      { kind: 'path', path: '/etc/profile.d/hermes-fleet.sh', content: true },
      { kind: 'path', path: UNIT, content: true },
      { kind: 'unit', name: 'hermes-agent.service' },
      { kind: 'path', path: RESTART_PENDING },
      { kind: 'path', path: '/var/lib/hermes-fleet/generations/current', content: true },
      // What container mode leaves, so switching back to native mode removes it.
      { kind: 'path', path: '/usr/local/lib/hermes-fleet/container-entrypoint' },
      { kind: 'path', path: '/usr/local/lib/hermes-fleet/container-create' },
      {
        kind: 'path',
        path: '/var/lib/hermes/.container-identity',
        content: true,
        as: 'hermes',
        tree: '/var/lib/hermes',
      },
      // The host CLI's note that the gateway runs in a container: removed in native mode.
      { kind: 'path', path: '/var/lib/hermes/.hermes/.container-mode', as: 'hermes' },
      // The record of named instances: a host that had some takes them down (read only).
      { kind: 'path', path: '/var/lib/hermes-fleet/instances.json', content: true },
    ]);
  });

  it('does nothing when the unit is right, enabled, running, and nothing else changed', () => {
    expect(plan()).toEqual([]);
  });

  it('on a fresh host: unit file, daemon-reload, enable, start, wait', () => {
    const changes = plan({ unitText: null, unit: {} });
    expect(changes).toEqual([
      {
        kind: 'file',
        path: UNIT,
        body: { text: EXPECTED_UNIT },
        attrs: UNIT_FILE_ATTRS,
        before: ABSENT,
      },
      {
        kind: 'systemd',
        action: 'daemon-reload',
        unit: 'hermes-agent.service',
        reason: 'unit file changed',
      },
      { kind: 'systemd', action: 'enable', unit: 'hermes-agent.service', reason: 'start at boot' },
      {
        kind: 'systemd',
        action: 'start',
        unit: 'hermes-agent.service',
        reason: 'the unit was not running',
      },
      { ...WAIT, rollback: false },
      GEN,
    ]);
  });

  it('restarts a running unit when config.yaml, .env, auth.json or a document changed', () => {
    for (const path of [
      '/var/lib/hermes/.hermes/config.yaml',
      '/var/lib/hermes/.hermes/.env',
      '/var/lib/hermes/.hermes/auth.json',
      '/var/lib/hermes/workspace/SOUL.md',
    ]) {
      const changes = plan({ earlier: [earlierFile('merge', path)] });
      const name = path.split('/').at(-1) ?? '';
      expect(changes).toEqual([
        {
          kind: 'systemd',
          action: 'restart',
          unit: 'hermes-agent.service',
          reason: `${name} changed`,
        },
        { ...WAIT, rollback: true },
        GEN,
        CLEAR_PENDING,
      ]);
    }
  });

  it('does not restart for the .managed marker, mode fixes, or files elsewhere', () => {
    const attrsOnly: TaskPlan = {
      task: 'merge',
      changes: [
        {
          kind: 'attrs',
          path: '/var/lib/hermes/.hermes/config.yaml',
          attrs: UNIT_FILE_ATTRS,
          before: ABSENT,
        },
        {
          kind: 'dir',
          path: '/var/lib/hermes/.hermes/logs',
          attrs: UNIT_FILE_ATTRS,
          before: ABSENT,
        },
      ],
    };
    expect(
      plan({
        earlier: [
          earlierFile('merge', '/var/lib/hermes/.hermes/.managed'),
          earlierFile('merge', '/var/lib/hermes/.hermes/config.yaml.broken'),
          attrsOnly,
          earlierFile('docs', '/etc/x'),
        ],
      }),
    ).toEqual([]);
  });

  it('names every reason in one restart', () => {
    const changes = plan({
      earlier: [
        earlierFile('merge', '/var/lib/hermes/.hermes/config.yaml'),
        earlierFile('secrets', '/var/lib/hermes/.hermes/.env'),
      ],
    });
    expect(changes[0]).toMatchObject({
      action: 'restart',
      reason: 'config.yaml changed, .env changed',
    });
  });

  it('reloads systemd and restarts when the unit file changed', () => {
    const old = file('[Service]\nExecStart=/old\n', UNIT_FILE_ATTRS);
    const changes = plan({ paths: { [UNIT]: old } });
    expect(changes).toEqual([
      {
        kind: 'file',
        path: UNIT,
        body: { text: EXPECTED_UNIT },
        attrs: UNIT_FILE_ATTRS,
        before: old,
      },
      {
        kind: 'systemd',
        action: 'daemon-reload',
        unit: 'hermes-agent.service',
        reason: 'unit file changed',
      },
      {
        kind: 'systemd',
        action: 'restart',
        unit: 'hermes-agent.service',
        reason: 'unit file changed',
      },
      { ...WAIT, rollback: true },
      GEN,
    ]);
  });

  it('fixes only the unit file mode without reload or restart', () => {
    const loose = file(EXPECTED_UNIT, { mode: 0o664, user: 'root', group: 'root' });
    expect(plan({ paths: { [UNIT]: loose } })).toEqual([
      { kind: 'attrs', path: UNIT, attrs: UNIT_FILE_ATTRS, before: loose },
    ]);
  });

  it('starts an inactive or failed unit (and only starts it, even with changes)', () => {
    for (const activeState of ['inactive', 'failed']) {
      expect(kinds(plan({ unit: { ...UNIT_RUNNING, activeState } }))).toEqual([
        'start',
        'wait-healthy',
      ]);
      const withChange = plan({
        unit: { ...UNIT_RUNNING, activeState },
        earlier: [earlierFile('merge', '/var/lib/hermes/.hermes/config.yaml')],
      });
      // What the gateway reads changed, and passed its check: a generation.
      expect(kinds(withChange)).toEqual(['start', 'wait-healthy', 'generation']);
    }
    expect(plan({ unit: { ...UNIT_RUNNING, activeState: 'failed' } })[0]).toMatchObject({
      reason: 'the unit had failed',
    });
  });

  it('enables a disabled unit without restarting it', () => {
    expect(plan({ unit: { ...UNIT_RUNNING, unitFileState: 'disabled' } })).toEqual([
      { kind: 'systemd', action: 'enable', unit: 'hermes-agent.service', reason: 'start at boot' },
    ]);
  });

  it('reloads systemd when the right unit file was never loaded', () => {
    expect(
      kinds(plan({ unit: { ...UNIT_RUNNING, loadState: 'not-found', activeState: 'inactive' } })),
    ).toEqual(['daemon-reload', 'start', 'wait-healthy']);
  });

  it('passes the health check command and seconds on', () => {
    const changes = plan({
      hermes: { healthCheck: { seconds: 10, command: 'hermes status' } },
      unit: { ...UNIT_RUNNING, activeState: 'inactive' },
    });
    expect(changes.at(-1)).toEqual({
      ...WAIT,
      seconds: 10,
      command: 'hermes status',
      rollback: true,
    });
  });

  it('fails when the package binary is missing or not executable', () => {
    expect(() => plan({ paths: { [BIN]: ABSENT } })).toThrow(PlanError);
    expect(() => plan({ paths: { [BIN]: ABSENT } })).toThrow(`${BIN} does not exist`);
    expect(() =>
      plan({ paths: { [BIN]: bare({ mode: 0o644, user: 'root', group: 'root' }) } }),
    ).toThrow(/not executable \(mode 0644\)/);
    expect(() => plan({ paths: { [BIN]: dir() } })).toThrow(/not a regular file/);
    expect(plan({ paths: { [BIN]: symlink('/nix/store/x/bin/hermes') } })).toEqual([]);
  });

  it('refuses a masked unit', () => {
    expect(() => plan({ unit: { ...UNIT_RUNNING, loadState: 'masked' } })).toThrow(/masked/);
  });

  it('links the CLI into /usr/local/bin with addToSystemPackages, and unlinks it without', () => {
    const linkPlan = (input: Setup) => plan(input).filter((c) => 'path' in c && c.path === LINK);
    expect(linkPlan({ hermes: { addToSystemPackages: true } })).toEqual([
      { kind: 'symlink', path: LINK, target: BIN, before: ABSENT },
    ]);
    expect(
      linkPlan({ hermes: { addToSystemPackages: true }, paths: { [LINK]: symlink(BIN) } }),
    ).toEqual([]);
    const stale = symlink('/opt/old/bin/hermes');
    expect(linkPlan({ hermes: { addToSystemPackages: true }, paths: { [LINK]: stale } })).toEqual([
      { kind: 'symlink', path: LINK, target: BIN, before: stale },
    ]);
    expect(() =>
      linkPlan({ hermes: { addToSystemPackages: true }, paths: { [LINK]: EXEC } }),
    ).toThrow(PlanError);
    const ours = symlink(BIN);
    expect(linkPlan({ paths: { [LINK]: ours } })).toEqual([
      { kind: 'remove', path: LINK, before: ours },
    ]);
    expect(linkPlan({ paths: { [LINK]: stale } })).toEqual([]);
  });

  it('exports HERMES_HOME to login shells with addToSystemPackages, and removes only its own file', () => {
    const PROFILE = '/etc/profile.d/hermes-fleet.sh';
    const profile = (input: Setup) => plan(input).filter((c) => 'path' in c && c.path === PROFILE);
    const [write] = profile({ hermes: { addToSystemPackages: true } });
    expect(write).toMatchObject({
      kind: 'file',
      attrs: { mode: 0o644, user: 'root', group: 'root' },
      body: {
        text: '# Managed by hermes-fleet (addToSystemPackages); edits are overwritten.\n[ "$(id -u)" = 0 ] || export HERMES_HOME=/var/lib/hermes/.hermes\n',
      },
    });
    const ours = file(write && 'body' in write && 'text' in write.body ? write.body.text : '', {
      mode: 0o644,
      user: 'root',
      group: 'root',
    });
    expect(profile({ hermes: { addToSystemPackages: true }, paths: { [PROFILE]: ours } })).toEqual(
      [],
    );
    expect(profile({ paths: { [PROFILE]: ours } })).toEqual([
      { kind: 'remove', path: PROFILE, before: ours },
    ]);
    const someoneElses = file('export HERMES_HOME=/elsewhere\n', {
      mode: 0o644,
      user: 'root',
      group: 'root',
    });
    expect(profile({ paths: { [PROFILE]: someoneElses } })).toEqual([]);
  });

  it('shares state the module’s way with addToSystemPackages: 2770 directories, UMask=0007', () => {
    const shared = makeHost({ addToSystemPackages: true });
    expect(renderNativeUnit(shared.hermes)).toContain('UMask=0007\n');
    expect(renderNativeUnit(makeHost().hermes)).not.toContain('UMask');
  });
});

describe('a restart owed by an earlier run', () => {
  it('is noted ahead of the first write the gateway reads, and cleared after the restart', () => {
    const host = makeHost();
    const facts = makeFacts({
      host,
      tasks: [serviceTask],
      paths: { [BIN]: EXEC },
      unit: UNIT_RUNNING,
    });
    const plans: TaskPlan[] = [
      { task: 'dirs', changes: [] },
      earlierFile('merge', '/var/lib/hermes/.hermes/config.yaml'),
      earlierFile('docs', '/var/lib/hermes/workspace/SOUL.md'),
    ];
    const marked = markRestartPending(host.hermes, facts, plans);
    expect(marked[0]).toEqual(plans[0]);
    expect(marked[1]?.changes[0]).toEqual({
      kind: 'restart-pending',
      action: 'set',
      path: RESTART_PENDING,
      unit: 'hermes-agent.service',
    });
    expect(marked[1]?.changes).toHaveLength(2);
    expect(marked[2]).toEqual(plans[2]);
    // Nothing the gateway reads changes: no note.
    expect(markRestartPending(host.hermes, facts, [{ task: 'dirs', changes: [] }])).toEqual([
      { task: 'dirs', changes: [] },
    ]);
  });

  it("is not taken for the service task's own writes (the container identity), restarted for in place", () => {
    const host = makeHost();
    const facts = makeFacts({
      host,
      tasks: [serviceTask],
      paths: { [BIN]: EXEC },
      unit: UNIT_RUNNING,
    });
    const plans = [
      { task: 'merge' as const, changes: [] },
      earlierFile('service', '/var/lib/hermes/.container-identity'),
    ];
    expect(markRestartPending(host.hermes, facts, plans)).toEqual(plans);
  });

  it('is not needed for a gateway that is not running (any later run starts it)', () => {
    const host = makeHost();
    const facts = makeFacts({
      host,
      tasks: [serviceTask],
      paths: { [BIN]: EXEC },
      unit: { ...UNIT_RUNNING, activeState: 'failed' },
    });
    const plans = [earlierFile('merge', '/var/lib/hermes/.hermes/config.yaml')];
    expect(markRestartPending(host.hermes, facts, plans)).toEqual(plans);
  });

  it('restarts a running gateway when the note is there, though nothing changes now', () => {
    const changes = plan({
      paths: { [RESTART_PENDING]: file('x', { mode: 0o600, user: 'root', group: 'root' }) },
    });
    expect(kinds(changes)).toEqual(['restart', 'wait-healthy', 'generation', 'restart-pending']);
    expect(changes[0]).toMatchObject({
      reason: 'an earlier run changed what it reads and did not restart it',
    });
  });
});
