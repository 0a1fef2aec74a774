import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/facts/types.js';
import type { HermesSettings, HostSpec, ImageArchive } from '../../src/inventory/types.js';
import { PlanError } from '../../src/plan/types.js';
import type { Change } from '../../src/plan/types.js';
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
} from '../../test/utils/facts.js';
import { defaultHermes, makeHost } from '../../test/utils/host.js';
import { serviceTask } from '../service.js';
import { identityInputs } from './container-identity.js';

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
    if (c.kind === 'image-load') return `${c.kind} ${c.archive.id}`;
    return `${c.kind}${'path' in c ? ` ${c.path}` : ''}`;
  });

/** A fresh host with the runtime installed and the image imported. */
function fresh(host: HostSpec): HostFacts {
  const facts = freshFacts(host, { commands: { [host.hermes.container.backend]: true } });
  const { backend, image } = host.hermes.container;
  facts.images.set(`${backend}:${image}`, true);
  return facts;
}

const reasonOf = (changes: Change[], action: string): string | undefined => {
  const change = changes.find((c) => c.kind === 'systemd' && c.action === action);
  return change?.kind === 'systemd' ? change.reason : undefined;
};

describe('container mode', () => {
  const host = containerHost();

  it('requests the runtime, the container, the scripts and the identity', () => {
    expect(serviceTask.facts(host)).toEqual(
      expect.arrayContaining([
        { kind: 'command', name: 'docker' },
        { kind: 'container', backend: 'docker', name: 'hermes-agent' },
        { kind: 'image', backend: 'docker', image: 'ubuntu:24.04' },
        { kind: 'path', path: FLEET_LIB_DIR },
        { kind: 'path', path: ENTRYPOINT_FILE, content: true },
        { kind: 'path', path: CREATE_FILE, content: true },
        { kind: 'path', path: IDENTITY, content: true, as: 'hermes', tree: '/var/lib/hermes' },
      ]),
    );
  });

  it('writes .container-mode for the host CLI, the account’s, 0644, restarting nothing', () => {
    const podman = containerHost({ user: 'agent', group: 'agents' }, { backend: 'podman' });
    const changes = serviceTask.plan(podman, fresh(podman), []);
    const mode = changes.find(
      (c) => 'path' in c && c.path === '/var/lib/hermes/.hermes/.container-mode',
    );
    expect(mode).toMatchObject({
      kind: 'file',
      attrs: { mode: 0o644, user: 'agent', group: 'agents' },
      as: 'agent',
      body: {
        text: [
          '# Written by hermes-fleet. Do not edit manually.',
          'backend=podman',
          'container_name=hermes-agent',
          'exec_user=agent',
          'hermes_bin=/opt/hermes/bin/hermes',
          '',
        ].join('\n'),
      },
    });
    // The file alone changed (a person removed it): written back, no restart.
    const synced = converge(podman, fresh(podman));
    synced.paths.delete('/var/lib/hermes/.hermes/.container-mode');
    synced.paths.set('/var/lib/hermes/.hermes/.container-mode', { kind: 'absent' });
    expect(summary(serviceTask.plan(podman, synced, []))).toEqual([
      'file /var/lib/hermes/.hermes/.container-mode',
    ]);
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
      `file /var/lib/hermes/.hermes/.container-mode`,
      'file /etc/systemd/system/hermes-agent.service',
      'daemon-reload',
      'enable',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
    expect(reasonOf(serviceTask.plan(host, facts, []), 'start')).toBe(
      'the unit was not running; the start creates container hermes-agent from ubuntu:24.04',
    );
    const after = converge(host, facts);
    expect(planAll(host, after).flatMap((p) => p.changes)).toEqual([]);
  });

  it('fails when the image is not on the host, naming it and how to provide it', () => {
    const facts = fresh(host);
    facts.images.set('docker:ubuntu:24.04', false);
    expect(() => serviceTask.plan(host, facts, [])).toThrow(PlanError);
    expect(() => serviceTask.plan(host, facts, [])).toThrow(
      /container image ubuntu:24\.04 is not on the host.*`docker pull ubuntu:24\.04`.*`docker load -i ARCHIVE\.tar`/,
    );
    // The same when a recreation would need it; the running container is left alone.
    const synced = converge(host, fresh(host));
    synced.images.set('docker:debian:12', false);
    const other = containerHost({}, { image: 'debian:12' });
    expect(() => serviceTask.plan(other, synced, [])).toThrow(/container image debian:12/);
  });

  it('keeps a running container whose image is gone (nothing to create)', () => {
    const synced = converge(host, fresh(host));
    synced.images.set('docker:ubuntu:24.04', false);
    expect(serviceTask.plan(host, synced, [])).toEqual([]);
  });

  it('recreates the container when its identity changes: stop, remove, record, start', () => {
    const synced = converge(host, fresh(host));
    const newImage = containerHost({}, { image: 'debian:12' });
    synced.images.set('docker:debian:12', true);
    const changes = serviceTask.plan(newImage, synced, []);
    expect(summary(changes)).toEqual([
      `file ${CREATE_FILE}`,
      'stop',
      'container-remove',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
    const why = 'the container is recreated: container.image ubuntu:24.04 → debian:12';
    expect(reasonOf(changes, 'stop')).toBe(why);
    expect(reasonOf(changes, 'start')).toBe(why);
    expect(changes.find((c) => c.kind === 'container-remove')).toMatchObject({
      reason: 'recreated: container.image ubuntu:24.04 → debian:12',
    });
    synced.images.set('docker:debian:12', true);
    const after = applyChanges(synced, changes);
    expect(serviceTask.plan(newImage, after, [])).toEqual([]);
  });

  it('removes a container that has no recorded identity', () => {
    const synced = converge(host, fresh(host));
    synced.paths.set(IDENTITY, { kind: 'absent' });
    const changes = serviceTask.plan(host, synced, []);
    expect(summary(changes)).toEqual([
      'stop',
      'container-remove',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
    ]);
    expect(reasonOf(changes, 'stop')).toBe(
      'the container is recreated: no identity was recorded for it',
    );
  });

  it('names each identity input that changed, lists by name only', () => {
    const synced = converge(host, fresh(host));
    const other = containerHost(
      { extraArgs: ['--verbose'] },
      { extraOptions: ['--memory=1g'], extraVolumes: ['/srv:/srv'] },
    );
    expect(reasonOf(serviceTask.plan(other, synced, []), 'stop')).toBe(
      'the container is recreated: container.extraVolumes changed, container.extraOptions changed, extraArgs changed',
    );
  });

  it('restarts the same container, not a new one, when an environment value changes', () => {
    const withEnv = containerHost({ environment: { A: 'a' } });
    const synced = converge(withEnv, fresh(withEnv));
    const other = containerHost({ environment: { A: 'b' } });
    const changes = planAll(other, synced).flatMap((p) => p.changes);
    expect(changes.some((c) => c.kind === 'container-remove')).toBe(false);
    expect(summary(changes.filter((c) => c.kind === 'systemd'))).toEqual(['restart']);
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
    expect(summary(serviceTask.plan(host, synced, earlier))).toEqual([
      'restart',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
      'restart-pending /run/hermes-fleet-restart-pending',
    ]);
  });

  it('restarts when the entrypoint changed (it runs at every container start)', () => {
    const synced = converge(host, fresh(host));
    synced.paths.set(ENTRYPOINT_FILE, file('old', { mode: 0o755, user: 'root', group: 'root' }));
    synced.units.set('hermes-agent.service', UNIT_RUNNING);
    const changes = serviceTask.plan(host, synced, []);
    expect(summary(changes)).toEqual([
      `file ${ENTRYPOINT_FILE}`,
      'restart',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
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
      '--pull=never',
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

  it('switching to native mode stops the container unit, then removes the container and its files', () => {
    const podman = containerHost({}, { backend: 'podman' });
    const synced = converge(podman, fresh(podman));
    const native = makeHost({ container: { ...podman.hermes.container, enable: false } });
    const changes = serviceTask.plan(native, synced, []);
    expect(summary(changes)).toEqual([
      'stop',
      'file /etc/systemd/system/hermes-agent.service',
      'daemon-reload',
      'container-remove',
      `remove ${IDENTITY}`,
      `remove ${ENTRYPOINT_FILE}`,
      `remove ${CREATE_FILE}`,
      `remove /var/lib/hermes/.hermes/.container-mode`,
      'start',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
    // The backend recorded in the identity, whatever the inventory says now.
    expect(changes.find((c) => c.kind === 'container-remove')).toMatchObject({
      backend: 'podman',
      reason: 'switching from container to native mode',
    });
    expect(reasonOf(changes, 'start')).toBe('switching from container to native mode');
    const after = applyChanges(synced, changes);
    expect(serviceTask.plan(native, after, [])).toEqual([]);
  });

  it('a native unit that already runs is not stopped to clear a leftover container', () => {
    const native = makeHost();
    const synced = converge(native, freshFacts(native));
    synced.paths.set(IDENTITY, file('x\n', { mode: 0o644, user: 'root', group: 'root' }));
    expect(summary(serviceTask.plan(native, synced, []))).toEqual([
      'container-remove',
      `remove ${IDENTITY}`,
    ]);
  });

  it('switching to container mode restarts the unit, which creates the container', () => {
    const native = makeHost();
    const synced = converge(native, freshFacts(native));
    for (const r of serviceTask.facts(host)) {
      if (r.kind === 'path' && !synced.paths.has(r.path))
        synced.paths.set(r.path, { kind: 'absent' });
    }
    synced.commands.set('docker', true);
    synced.containers.set('docker:hermes-agent', { exists: false });
    synced.images.set('docker:ubuntu:24.04', true);
    const changes = serviceTask.plan(host, synced, []);
    expect(summary(changes)).toEqual([
      `dir ${FLEET_LIB_DIR}`,
      `file ${ENTRYPOINT_FILE}`,
      `file ${CREATE_FILE}`,
      `file /var/lib/hermes/.hermes/.container-mode`,
      'file /etc/systemd/system/hermes-agent.service',
      'daemon-reload',
      `file ${IDENTITY}`,
      'restart',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
    expect(reasonOf(changes, 'restart')).toBe(
      'unit file changed, container entrypoint changed, container create script changed; the start creates container hermes-agent from ubuntu:24.04',
    );
  });

  it('a backend switch removes the old container through the runtime that made it', () => {
    const podman = containerHost({}, { backend: 'podman' });
    const synced = converge(podman, fresh(podman));
    // Real docker beside podman: separate stores, so docker does not see podman's container.
    synced.commands.set('docker', true);
    synced.containers.set('docker:hermes-agent', { exists: false });
    synced.images.set('docker:ubuntu:24.04', true);
    const changes = serviceTask.plan(host, synced, []);
    expect(summary(changes)).toEqual([
      `file ${CREATE_FILE}`,
      `file /var/lib/hermes/.hermes/.container-mode`,
      'stop',
      'file /etc/systemd/system/hermes-agent.service',
      'daemon-reload',
      'container-remove',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
    expect(changes.find((c) => c.kind === 'container-remove')).toMatchObject({
      backend: 'podman',
      reason: 'recreated: container.backend podman → docker',
    });
    // With podman-docker both names reach one store: the container goes through both (rm -f).
    synced.containers.set('docker:hermes-agent', { exists: true, running: true });
    const shared = serviceTask.plan(host, synced, []).filter((c) => c.kind === 'container-remove');
    expect(shared.map((c) => c.backend)).toEqual(['podman', 'docker']);
  });

  it('has an entrypoint that assumes no network: no package managers, no downloads', () => {
    expect(ENTRYPOINT_SCRIPT).not.toMatch(/apt|curl|wget|pip|uv |apk|dnf|yum/);
    expect(ENTRYPOINT_SCRIPT).toMatch(/useradd/);
    expect(ENTRYPOINT_SCRIPT).toMatch(/adduser/);
    expect(ENTRYPOINT_SCRIPT).toMatch(/setpriv --reuid/);
  });
});

describe('container.imageArchive', () => {
  const archive = (digit: string): ImageArchive => ({
    path: '/control/images/hermes.tar',
    written: 'images/hermes.tar',
    sha256: 'f'.repeat(64),
    size: 180 * 1024 * 1024,
    id: `sha256:${digit.repeat(64)}`,
    bytes: () => Promise.resolve(Buffer.alloc(0)),
  });
  const v1 = containerHost({}, { imageArchive: archive('1') });
  const v2 = containerHost({}, { imageArchive: archive('2') });
  const host = () => containerHost();
  const runtime = (h: HostSpec) =>
    freshFacts(h, { commands: { [h.hermes.container.backend]: true } });

  it('asks whether the host has the image by the id in the archive', () => {
    expect(serviceTask.facts(v1)).toContainEqual({
      kind: 'image',
      backend: 'docker',
      image: `sha256:${'1'.repeat(64)}`,
    });
  });

  it('loads the image first on a host that lacks it, and creates the container from its id', () => {
    const facts = runtime(v1);
    const changes = serviceTask.plan(v1, facts, []);
    expect(summary(changes)[0]).toBe(`image-load sha256:${'1'.repeat(64)}`);
    expect(changes[0]).toMatchObject({ kind: 'image-load', backend: 'docker' });
    expect(reasonOf(changes, 'start')).toBe(
      'the unit was not running; the start creates container hermes-agent from ubuntu:24.04 (image 111111111111)',
    );
    expect(renderCreateScript(v1.hermes)).toContain(
      `  sha256:${'1'.repeat(64)} /opt/hermes/bin/hermes gateway run --replace`,
    );
    // Once loaded, a second run uploads nothing.
    const after = converge(v1, facts);
    expect(planAll(v1, after).flatMap((p) => p.changes)).toEqual([]);
  });

  it('uploads nothing to a host that has the image already', () => {
    const facts = runtime(v1);
    facts.images.set(`docker:sha256:${'1'.repeat(64)}`, true);
    const changes = serviceTask.plan(v1, facts, []);
    expect(changes.some((c) => c.kind === 'image-load')).toBe(false);
  });

  it('recreates the container when the archive holds new content under the same tag', () => {
    const synced = converge(v1, runtime(v1));
    synced.images.set(`docker:sha256:${'2'.repeat(64)}`, false);
    const changes = serviceTask.plan(v2, synced, []);
    expect(summary(changes)).toEqual([
      `image-load sha256:${'2'.repeat(64)}`,
      `file ${CREATE_FILE}`,
      'stop',
      'container-remove',
      `file ${IDENTITY}`,
      'start',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
    ]);
    const why = 'the container is recreated: container.imageId 111111111111 → 222222222222';
    expect(reasonOf(changes, 'stop')).toBe(why);
    expect(reasonOf(changes, 'start')).toBe(why);
    expect(serviceTask.plan(v2, applyChanges(synced, changes), [])).toEqual([]);
  });

  it('names the image id as gone when the archive is dropped from the inventory', () => {
    const synced = converge(v1, runtime(v1));
    synced.images.set('docker:ubuntu:24.04', true);
    expect(reasonOf(serviceTask.plan(host(), synced, []), 'stop')).toBe(
      'the container is recreated: container.imageId 111111111111 → nothing',
    );
  });

  it('leaves the identity of a host without an archive as it was (no recreation on upgrade)', () => {
    const inputs = identityInputs(host().hermes);
    expect('container.imageId' in inputs).toBe(false);
    expect(identityInputs(v1.hermes)['container.imageId']).toBe(`sha256:${'1'.repeat(64)}`);
  });
});
