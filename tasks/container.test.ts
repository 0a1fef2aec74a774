import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import {
  CREATE_FILE,
  ENTRYPOINT_FILE,
  ENTRYPOINT_SCRIPT,
  FLEET_LIB_DIR,
  containerIdentity,
  containerWorkDir,
  renderContainerUnit,
  renderCreateScript,
} from './container.js';
import {
  UNIT_RUNNING,
  applyChanges,
  converge,
  file,
  freshFacts,
  planAll,
} from './fixtures/facts.js';
import { defaultHermes, makeHost } from './fixtures/host.js';
import { serviceTask } from './service.js';

function containerHost(
  hermes: Partial<HermesSettings> = {},
  container: Partial<HermesSettings['container']> = {},
): HostSpec {
  return makeHost({
    ...hermes,
    container: { ...defaultHermes().container, enable: true, ...container },
  });
}

const IDENTITY = '/var/lib/hermes/.container-identity';
const summary = (changes: Change[]) =>
  changes.map((c) => {
    if (c.kind === 'systemd') return c.action;
    if (c.kind === 'wait-healthy' || c.kind === 'container-remove') return c.kind;
    if (c.kind === 'group-create' || c.kind === 'user-create') return c.kind;
    return `${c.kind} ${c.path}`;
  });

function fresh(host: HostSpec): HostFacts {
  return freshFacts(host, { commands: { [host.hermes.container.backend]: true } });
}

describe('container mode', () => {
  const host = containerHost();

  it('requests the runtime, the container, the scripts and the identity', () => {
    expect(serviceTask.facts(host)).toEqual(
      expect.arrayContaining([
        { kind: 'command', name: 'docker' },
        { kind: 'container', backend: 'docker', name: 'hermes-agent' },
        { kind: 'path', path: FLEET_LIB_DIR },
        { kind: 'path', path: ENTRYPOINT_FILE, content: true },
        { kind: 'path', path: CREATE_FILE, content: true },
        { kind: 'path', path: IDENTITY, content: true },
      ]),
    );
  });

  it('fails when the runtime is not installed', () => {
    expect(() => serviceTask.plan(host, freshFacts(host), [])).toThrow(PlanError);
    expect(() => serviceTask.plan(host, freshFacts(host), [])).toThrow(/docker is not installed/);
  });

  it('sets everything up on a fresh host (check mode), then changes nothing', () => {
    const facts = fresh(host);
    expect(summary(serviceTask.plan(host, facts, []))).toEqual([
      `dir ${FLEET_LIB_DIR}`,
      `file ${ENTRYPOINT_FILE}`,
      `file ${CREATE_FILE}`,
      'file /etc/systemd/system/hermes-agent.service',
      'daemon-reload',
      'enable',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
    ]);
    const after = converge(host, facts);
    expect(planAll(host, after).flatMap((p) => p.changes)).toEqual([]);
  });

  it('recreates the container when its identity changes: stop, remove, record, start', () => {
    const synced = converge(host, fresh(host));
    const newImage = containerHost({}, { image: 'debian:12' });
    const changes = serviceTask.plan(newImage, synced, []);
    expect(summary(changes)).toEqual([
      `file ${CREATE_FILE}`,
      'stop',
      'container-remove',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
    ]);
    expect(changes.find((c) => c.kind === 'systemd' && c.action === 'start')).toMatchObject({
      reason: 'the container is recreated',
    });
    const after = applyChanges(synced, changes);
    expect(serviceTask.plan(newImage, after, [])).toEqual([]);
  });

  it('removes a container that has no recorded identity', () => {
    const synced = converge(host, fresh(host));
    synced.paths.set(IDENTITY, { kind: 'absent' });
    expect(summary(serviceTask.plan(host, synced, []))).toEqual([
      'stop',
      'container-remove',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
    ]);
  });

  it('only restarts for a .env or config change (no recreation)', () => {
    const synced = converge(host, fresh(host));
    const earlier = [
      {
        task: 'secrets' as const,
        changes: [
          {
            kind: 'file' as const,
            path: '/var/lib/hermes/.hermes/.env',
            body: { text: '' },
            attrs: { mode: 0o600, user: 'hermes', group: 'hermes' },
            before: { kind: 'absent' as const },
          },
        ],
      },
    ];
    expect(summary(serviceTask.plan(host, synced, earlier))).toEqual(['restart', 'wait-healthy']);
  });

  it('restarts when the entrypoint changed (it runs at every container start)', () => {
    const synced = converge(host, fresh(host));
    synced.paths.set(ENTRYPOINT_FILE, file('old', { mode: 0o755, user: 'root', group: 'root' }));
    synced.units.set('hermes-agent.service', UNIT_RUNNING);
    const changes = serviceTask.plan(host, synced, []);
    expect(summary(changes)).toEqual([`file ${ENTRYPOINT_FILE}`, 'restart', 'wait-healthy']);
    expect(changes[1]).toMatchObject({ reason: 'container entrypoint changed' });
  });

  it('has an identity that covers what create is given, and nothing else', () => {
    const base = containerIdentity(host.hermes);
    expect(
      containerIdentity(
        containerHost({ settings: { model: 'x' }, environment: { A: 'b' } }).hermes,
      ),
    ).toBe(base);
    for (const other of [
      containerHost({}, { image: 'x' }),
      containerHost({}, { extraVolumes: ['/a:/a'] }),
      containerHost({}, { extraOptions: ['--memory=1g'] }),
      containerHost({ extraArgs: ['-v'] }),
      containerHost({ package: '/opt/other' }),
    ]) {
      expect(containerIdentity(other.hermes)).not.toBe(base);
    }
  });

  it('maps the working directory into /data when it is under stateDir', () => {
    expect(containerWorkDir(host.hermes)).toBe('/data/workspace');
    expect(containerWorkDir(containerHost({ workingDirectory: '/srv/work' }).hermes)).toBe(
      '/srv/work',
    );
  });

  it('renders the container unit', () => {
    expect(renderContainerUnit(host.hermes))
      .toBe(`# Managed by hermes-fleet (the container unit of hermes-agent's NixOS module); edits are overwritten.
[Unit]
Description=Hermes Agent Gateway (container)
After=network-online.target docker.service
Wants=network-online.target docker.service

[Service]
Type=simple
ExecStartPre=/usr/local/lib/hermes-fleet/container-create
ExecStart=docker start -a hermes-agent
ExecStop=-docker stop -t 10 hermes-agent
Restart=always
RestartSec=5
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
`);
    expect(renderContainerUnit(containerHost({}, { backend: 'podman' }).hermes)).toContain(
      'After=network-online.target\n',
    );
  });

  it('has an entrypoint that /bin/sh parses', () => {
    execFileSync('/bin/sh', ['-n'], { input: ENTRYPOINT_SCRIPT });
  });

  it('creates the container with exactly the intended arguments, hostile ones included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'create-'));
    const log = join(dir, 'args');
    writeFileSync(
      join(dir, 'docker'),
      `#!/bin/sh\nif [ "$1" = container ]; then exit 1; fi\nprintf '%s\\0' "$@" > ${log}\n`,
    );
    writeFileSync(
      join(dir, 'id'),
      '#!/bin/sh\nif [ "$1" = -u ]; then echo 1234; else echo 5678; fi\n',
    );
    chmodSync(join(dir, 'docker'), 0o755);
    chmodSync(join(dir, 'id'), 0o755);
    const hostile = containerHost(
      { extraArgs: ['--name', "it's $(id) `x` ;"], workingDirectory: '/var/lib/hermes/my work' },
      { extraOptions: ['--label=a b'], extraVolumes: ['/srv/x y:/x'] },
    );
    const script = join(dir, 'create');
    writeFileSync(script, renderCreateScript(hostile.hermes));
    execFileSync('/bin/sh', [script], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    const args = readFileSync(log, 'utf8').split('\0').slice(0, -1);
    expect(args).toEqual([
      'create',
      '--name',
      'hermes-agent',
      '--network=host',
      '--entrypoint',
      '/opt/hermes-fleet/container-entrypoint',
      '--volume',
      '/opt/hermes:/opt/hermes:ro',
      '--volume',
      '/usr/local/lib/hermes-fleet:/opt/hermes-fleet:ro',
      '--volume',
      '/var/lib/hermes:/data',
      '--volume',
      '/var/lib/hermes/home:/home/hermes',
      '--volume',
      '/srv/x y:/x',
      '--env',
      'HERMES_HOME=/data/.hermes',
      '--env',
      'HERMES_MANAGED=true',
      '--env',
      'HOME=/home/hermes',
      '--env',
      'MESSAGING_CWD=/data/my work',
      '--label=a b',
      '--env',
      'HERMES_UID=1234',
      '--env',
      'HERMES_GID=5678',
      'ubuntu:24.04',
      '/opt/hermes/bin/hermes',
      'gateway',
      'run',
      '--replace',
      '--name',
      "it's $(id) `x` ;",
    ]);
  });
});
