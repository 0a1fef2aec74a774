// Issue #14, "Container images, same need": container.imageArchive, a `podman save` archive made
// on host1 from an image of its own root file system and copied to the control machine, is
// uploaded and loaded on each host that lacks the image id in it (host1 with podman, host2 with
// docker, podman-docker's command line); a second run uploads nothing; new content under the
// same tag recreates the container. No registry anywhere.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JsonReport, ReportChange } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const HOSTS = [1, 2] as const;
const BACKEND = { 1: 'podman', 2: 'docker' } as const;
const TAG = 'localhost/hermes-e2e:latest';

type Host = (typeof HOSTS)[number];

const work = mkdtempSync(join(tmpdir(), 'hermes-fleet-image-archive-'));
const ARCHIVE = join(work, 'images', 'hermes.tar');

function inventory(): string {
  return writeFleetInventory(HOSTS.length, {
    all: {
      vars: {
        hermes: {
          settings: { model: 'anthropic/claude-sonnet-4' },
          container: { enable: true, backend: 'podman', image: TAG, imageArchive: ARCHIVE },
        },
      },
      hosts: { host2: { hermes: { container: { backend: 'docker' } } } },
    },
  });
}

function report(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function hostReport(r: JsonReport, i: Host) {
  const host = r.hosts.find((h) => h.host === `host${i}`);
  if (!host) throw new Error(`host${i} is not in the report`);
  return host;
}

function changesOf(r: JsonReport, i: Host): ReportChange[] {
  return hostReport(r, i).tasks.flatMap((t) => t.changes);
}

describeFleet('container.imageArchive on real hosts', () => {
  let fleet: Fleet;
  /** The image ids of the two archives, `sha256:<hex>` as podman saved them. */
  const ids: string[] = [];

  async function ok(i: number, cmd: string): Promise<string> {
    const out = await fleet.ssh(i, cmd, { timeoutMs: 300_000 });
    expect(out.code, `${cmd}: ${out.stderr}`).toBe(0);
    return out.stdout;
  }

  /** Saves TAG on host1 to `name` on the control machine; returns the image id podman gives it. */
  async function saveFromHost1(name: string): Promise<string> {
    await ok(1, `podman save -o /var/tmp/${name} ${TAG} >/dev/null 2>&1`);
    const id = (await ok(1, `podman image inspect --format '{{.Id}}' ${TAG}`)).trim();
    execFileSync(
      'scp',
      ['-q', '-F', fleet.paths.sshConfig, `host1:/var/tmp/${name}`, join(work, name)],
      { timeout: 300_000 },
    );
    await ok(1, `rm -f /var/tmp/${name}`);
    return `sha256:${id}`;
  }

  async function hasImage(i: Host, id: string): Promise<boolean> {
    return (await fleet.ssh(i, `${BACKEND[i]} image inspect ${id} >/dev/null 2>&1`)).code === 0;
  }

  async function container(i: Host): Promise<{ Id: string; Image: string; Running: boolean }> {
    const out = await ok(
      i,
      `${BACKEND[i]} container inspect --format '{{.Id}} {{.Image}} {{.State.Running}}' hermes-agent`,
    );
    const [id = '', image = '', running = ''] = out.trim().split(' ');
    return { Id: id, Image: image.replace(/^sha256:/, ''), Running: running === 'true' };
  }

  /** Uploads left behind in the root-only place apply.sh receives them in. */
  async function leftovers(i: Host): Promise<string> {
    return (await ok(i, 'ls -d /var/tmp/hermes-fleet-image.* 2>/dev/null || true')).trim();
  }

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS.length);
    // Two images under one tag: each import has its own creation time, so its own id.
    await fleet.importImage(1, TAG);
    ids.push(await saveFromHost1('v1.tar'));
    await fleet.importImage(1, TAG);
    ids.push(await saveFromHost1('v2.tar'));
    // Neither host has either image: every one comes from the archive.
    await ok(1, `podman rmi -f ${ids.join(' ')} >/dev/null`);
    mkdirSync(join(work, 'images'));
    execFileSync('cp', [join(work, 'v1.tar'), ARCHIVE]);
  }, 900_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('made two different images under one tag', () => {
    expect(ids[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ids[1]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('check mode and --diff say what would be loaded, and load nothing', async () => {
    const result = await runCli(['run', '-i', inventory(), '--check', '--diff', '--json']);
    expect(result.code, result.all).toBe(0);
    const mb = (statSync(ARCHIVE).size / 1e6).toFixed(1);
    for (const i of HOSTS) {
      const load = changesOf(report(result.stdout), i).find((c) => c.kind === 'image-load');
      expect(load?.summary).toBe(`load image ${ids[0]?.slice(7, 19)} from hermes.tar (${mb} MB)`);
      expect(load?.image).toEqual({ id: ids[0], archive: ARCHIVE, bytes: statSync(ARCHIVE).size });
      expect(await hasImage(i, ids[0] ?? '')).toBe(false);
    }
  });

  it('uploads and loads the archive on both hosts and runs the container from that image', async () => {
    const result = await runCli(['run', '-i', inventory(), '--json']);
    expect(result.code, result.all).toBe(0);
    for (const i of HOSTS) {
      const host = hostReport(report(result.stdout), i);
      expect(host.stats.roundTrips).toBe(2);
      expect(
        changesOf(report(result.stdout), i).filter((c) => c.kind === 'image-load'),
      ).toHaveLength(1);
      expect(await hasImage(i, ids[0] ?? '')).toBe(true);
      const c = await container(i);
      expect(c.Image).toBe(ids[0]?.slice(7));
      expect(c.Running).toBe(true);
      expect(await fleet.unit(i, UNIT)).toMatchObject({ active: 'active' });
      expect(await leftovers(i)).toBe('');
    }
  });

  it('uploads nothing on a second run: one round trip, no change', async () => {
    const result = await runCli(['run', '-i', inventory(), '--json', '--detailed-exitcode']);
    expect(result.code, result.all).toBe(0);
    for (const i of HOSTS) {
      const host = hostReport(report(result.stdout), i);
      expect(host.status).toBe('ok');
      expect(host.stats.roundTrips).toBe(1);
      expect(changesOf(report(result.stdout), i)).toEqual([]);
    }
  });

  it('recreates the container when the archive holds new content under the same tag', async () => {
    const before = await Promise.all(HOSTS.map((i) => container(i)));
    execFileSync('cp', [join(work, 'v2.tar'), ARCHIVE]);
    const result = await runCli(['run', '-i', inventory(), '--json']);
    expect(result.code, result.all).toBe(0);
    const [old12, new12] = ids.map((id) => id.slice(7, 19));
    for (const [n, i] of HOSTS.entries()) {
      const changes = changesOf(report(result.stdout), i);
      expect(changes.find((c) => c.kind === 'image-load')?.image?.id).toBe(ids[1]);
      const stop = changes.find((c) => c.kind === 'systemd' && c.action === 'stop');
      expect(stop?.summary).toContain(
        `the container is recreated: container.imageId ${old12} → ${new12}`,
      );
      const c = await container(i);
      expect(c.Image).toBe(ids[1]?.slice(7));
      expect(c.Id).not.toBe(before[n]?.Id);
      expect(c.Running).toBe(true);
      expect(await fleet.unit(i, UNIT)).toMatchObject({ active: 'active' });
      expect(await leftovers(i)).toBe('');
    }
    const again = await runCli(['run', '-i', inventory(), '--json', '--detailed-exitcode']);
    expect(again.code, again.all).toBe(0);
    for (const i of HOSTS) expect(hostReport(report(again.stdout), i).stats.roundTrips).toBe(1);
  });
});
