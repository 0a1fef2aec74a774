// Issue #26: hosts that fetch their release themselves (`hermes.release.url` + `sha256`). A
// local HTTP server that the test hosts reach (they share this machine's network); host1 has
// neither curl nor wget (the image's own state), host2 gets this machine's wget, host3 its
// curl. A host without either is refused naming the packages, and --release-from-controller
// uploads to it instead; check mode downloads nothing; a run downloads once per host and
// uploads nothing; a bad checksum, a 404 and a server that stops mid-file install nothing.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { serveReleases, type ReleaseServer } from '../utils/release-server.js';
import { runCli } from './cli.js';
import { installFetcher } from './fetchers.js';
import { buildRelease, type BuiltRelease } from './release-archives.js';

const HOSTS = 3;
const ROOT = '/opt/hermes-agent';

interface Report {
  hosts: {
    host: string;
    status: string;
    message?: string;
    tasks: {
      task: string;
      message?: string;
      changes: { kind: string; summary: string; release?: { id: string; url?: string } }[];
    }[];
  }[];
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describeFleet('releases the hosts download themselves', () => {
  let fleet: Fleet;
  let server: ReleaseServer;
  let v1: BuiltRelease;
  let v2: BuiltRelease;
  let v3: BuiltRelease;

  const inventory = (url: string, sha: string) =>
    writeFleetInventory(HOSTS, {
      all: { vars: { hermes: { healthCheck: { seconds: 1 }, release: { url, sha256: sha } } } },
    });
  const current = async (i: number) =>
    (await fleet.ssh(i, `readlink ${ROOT}/current`)).stdout.trim();
  const releases = async (i: number) =>
    (await fleet.ssh(i, `ls -A ${ROOT}/releases`)).stdout.trim().split('\n').filter(Boolean).sort();

  beforeAll(async () => {
    v1 = buildRelease('1.0.0');
    v2 = buildRelease('2.0.0', { flag: '--xz', ending: '.tar.xz' });
    v3 = buildRelease('3.0.0', { padding: 2_000_000 });
    server = await serveReleases({
      '/v1/hermes-agent.tar.gz': { bytes: readFileSync(v1.file) },
      '/v2/hermes-agent.tar.xz': { bytes: readFileSync(v2.file) },
      '/v3/hermes-agent.tar.gz': { bytes: readFileSync(v3.file) },
      '/cut/hermes-agent.tar.gz': { bytes: readFileSync(v3.file), cut: true },
    });
    fleet = await bootFleet(HOSTS);
    await fleet.reset(1, 2, 3);
    await installFetcher(fleet, 2, 'wget');
    await installFetcher(fleet, 3, 'curl');
  });
  afterAll(() => server.close());

  it('a host with neither curl nor wget is refused naming the packages; --release-from-controller uploads it', async () => {
    const file = inventory(server.url('/v1/hermes-agent.tar.gz'), sha256(v1.file));
    const refused = await runCli(['run', '-i', file, '--limit', 'host1']);
    expect(refused.code).not.toBe(0);
    expect(refused.all).toContain('neither curl nor wget; install the curl or wget package');
    expect(server.requests('/v1/hermes-agent.tar.gz')).toBe(0);
    expect(await releases(1)).toEqual([]);
    const pushed = await runCli([
      'run',
      '-i',
      file,
      '--limit',
      'host1',
      '--release-from-controller',
      '--json',
    ]);
    expect(pushed.code, pushed.all).toBe(0);
    // The controller downloaded it once, and uploaded it as it does a local archive.
    expect(server.requests('/v1/hermes-agent.tar.gz')).toBe(1);
    const report = JSON.parse(pushed.stdout) as Report;
    const unpack = report.hosts[0]?.tasks
      .flatMap((t) => t.changes)
      .find((c) => c.kind === 'release-unpack');
    expect(unpack?.summary).toMatch(/^upload release /);
    expect(await current(1)).toBe(`releases/${v1.id}`);
    expect((await fleet.unit(1, 'hermes-agent.service')).active).toBe('active');
  });

  it('check mode downloads nothing; a run downloads once per host and uploads nothing', async () => {
    const url = `${server.url('/v2/hermes-agent.tar.xz')}?token=not-in-any-report`;
    const file = inventory(url, sha256(v2.file));
    const check = await runCli(['run', '-i', file, '--limit', 'host2,host3', '--check', '--json']);
    expect(check.code, check.all).toBe(0);
    const predicted = (JSON.parse(check.stdout) as Report).hosts.flatMap((h) =>
      h.tasks.flatMap((t) => t.changes).filter((c) => c.kind === 'release-unpack'),
    );
    expect(predicted).toHaveLength(2);
    expect(predicted[0]?.summary).toBe(
      `download release ${v2.id} from ${server.url('/v2/hermes-agent.tar.xz')}?…`,
    );
    expect(server.requests('/v2/hermes-agent.tar.xz')).toBe(0);
    const result = await runCli(['run', '-i', file, '--limit', 'host2,host3', '-vv']);
    expect(result.code, result.all).toBe(0);
    expect(server.requests('/v2/hermes-agent.tar.xz')).toBe(2);
    // -vv shows each operation's fields: the release's carries the URL, no bytes on stdin.
    const ops = result.all.split('\n').filter((line) => line.includes('release-unpack'));
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.join('\n')).not.toMatch(/bytes on stdin/);
    expect(result.all).not.toContain('not-in-any-report');
    for (const i of [2, 3]) {
      expect(await current(i)).toBe(`releases/${v2.id}`);
      expect(await releases(i)).toEqual([v2.id]);
      expect((await fleet.unit(i, 'hermes-agent.service')).active).toBe('active');
      const owner = await fleet.stat(i, `${ROOT}/releases/${v2.id}/bin/hermes`);
      expect(owner).toMatchObject({ user: 'root', mode: 0o755 });
    }
  });

  it.each([
    ['a bad checksum', '/v3/hermes-agent.tar.gz', 'ef'.repeat(32), /not the sha256 given/],
    [
      'a 404',
      '/missing/hermes-agent.tar.gz',
      '',
      /the download failed \((curl: \(22\).*404|ERROR 404: Not Found)/,
    ],
    ['a server that stops mid-file', '/cut/hermes-agent.tar.gz', '', /the download failed/],
  ])('%s installs nothing and leaves current as it was', async (_, path, sha, words) => {
    const file = inventory(server.url(path), sha || sha256(v3.file));
    const result = await runCli(['run', '-i', file, '--limit', 'host2,host3', '--json']);
    expect(result.code).not.toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    for (const host of report.hosts) {
      expect(host.status, host.host).toBe('failed');
      const release = host.tasks.find((t) => t.task === 'release');
      expect(release?.message ?? host.message ?? '', host.host).toMatch(words);
    }
    for (const i of [2, 3]) {
      expect(await releases(i), `host${i}`).toEqual([v2.id]);
      expect(await current(i)).toBe(`releases/${v2.id}`);
      expect((await fleet.unit(i, 'hermes-agent.service')).active).toBe('active');
    }
  });
});
