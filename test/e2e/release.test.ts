// Issue: releases. hermes-fleet installs hermes-agent itself from release archives: a first
// deploy, a no-op that uploads nothing, check mode predicting an upgrade, an upgrade that
// switches `current`, the unit and the running gateway (the stand-in records its own path), keep
// pruning, an upload cut off that never gets its final name, the service account unable to write
// a release, status's RELEASE and VERSION, and --limit, --serial, --shard and a bastion.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';
import { buildRelease, scratchDir, type BuiltRelease } from './release-archives.js';

const HOSTS = 3;
const ROOT = '/opt/hermes-agent';
interface Report {
  hosts: {
    host: string;
    status: string;
    stats: { roundTrips: number };
    tasks: { task: string; changes: { kind: string; summary: string; release?: object }[] }[];
  }[];
}

describeFleet('releases on real hosts', () => {
  let fleet: Fleet;
  let v1: BuiltRelease;
  let v2: BuiltRelease;

  const inventory = (release: object, extra: object = {}) =>
    writeFleetInventory(HOSTS, {
      all: { vars: { hermes: { healthCheck: { seconds: 1 }, release, ...extra } } },
    });

  const current = async (i: number) =>
    (await fleet.ssh(i, `readlink ${ROOT}/current`)).stdout.trim();
  const releases = async (i: number) =>
    (await fleet.ssh(i, `ls -A ${ROOT}/releases`)).stdout.trim().split('\n').filter(Boolean).sort();
  const runningFrom = async (i: number) => (await fleet.standinRecord(i))?.argv[0] ?? '';

  beforeAll(async () => {
    v1 = buildRelease('1.0.0');
    v2 = buildRelease('2.0.0', { flag: '--xz', ending: '.tar.xz' });
    fleet = await bootFleet(HOSTS);
    await fleet.reset(...Array.from({ length: HOSTS }, (_, i) => i + 1));
  });

  it('a first deploy installs the release, root-owned, and runs the gateway from it', async () => {
    const result = await runCli(['run', '-i', inventory({ archive: v1.file })]);
    expect(result.code, result.all).toBe(0);
    for (let i = 1; i <= HOSTS; i++) {
      expect(await current(i)).toBe(`releases/${v1.id}`);
      expect(await releases(i)).toEqual([v1.id]);
      const unit = await fleet.read(i, '/etc/systemd/system/hermes-agent.service');
      expect(unit).toContain(`ExecStart=${ROOT}/releases/${v1.id}/bin/hermes gateway`);
      expect(await runningFrom(i)).toBe(`${ROOT}/releases/${v1.id}/bin/../lib/stand-in-hermes.py`);
      expect(await fleet.unit(i, 'hermes-agent.service')).toMatchObject({ active: 'active' });
    }
    // Root's, no write bit for group or others anywhere in it; the service account cannot write.
    const perms = await fleet.ssh(
      1,
      `find ${ROOT} \\( ! -user root -o -perm /022 \\) ! -type l -print; stat -c '%U:%G %a' ${ROOT}/releases/${v1.id}/bin/hermes`,
    );
    expect(perms.stdout.trim()).toBe('root:root 755');
    const write = await fleet.ssh(
      1,
      `runuser -u hermes -- sh -c 'touch ${ROOT}/releases/${v1.id}/bin/x || touch ${ROOT}/releases/y || ln -sfn /tmp ${ROOT}/current' 2>&1; echo rc=$?`,
    );
    expect(write.stdout).toMatch(/Permission denied/);
    expect(write.stdout).toMatch(/rc=1/);
    expect(await current(1)).toBe(`releases/${v1.id}`);
  });

  it('a no-op uploads nothing: one round trip per host', async () => {
    const result = await runCli(['run', '-i', inventory({ archive: v1.file }), '--json']);
    expect(result.code, result.all).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    for (const host of report.hosts) {
      expect(host.status).toBe('ok');
      expect(host.stats.roundTrips).toBe(1);
    }
  });

  it('check mode predicts the upgrade and changes nothing', async () => {
    const started = (await fleet.standinRecord(1))?.started_at;
    const result = await runCli([
      'run',
      '-i',
      inventory({ archive: v2.file }),
      '--check',
      '--diff',
      '--detailed-exitcode',
    ]);
    expect(result.code, result.all).toBe(3);
    const mb = (v2.bytes / 1e6).toFixed(1);
    expect(result.stdout).toContain(`upload release ${v2.id} (${mb} MB)`);
    expect(result.stdout).toContain(`switch current: ${v1.id} -> ${v2.id}`);
    const json = await runCli(['run', '-i', inventory({ archive: v2.file }), '--check', '--json']);
    const report = JSON.parse(json.stdout) as Report;
    const release = report.hosts[0]?.tasks.find((t) => t.task === 'release');
    expect(release?.changes.map((c) => [c.kind, c.release])).toEqual([
      ['release-unpack', { id: v2.id, bytes: v2.bytes }],
      ['release-switch', { id: v2.id, from: v1.id }],
    ]);
    for (let i = 1; i <= HOSTS; i++) {
      expect(await current(i)).toBe(`releases/${v1.id}`);
      expect(await releases(i)).toEqual([v1.id]);
    }
    expect((await fleet.standinRecord(1))?.started_at).toBe(started);
  });

  it('an upgrade under --serial switches current, the unit and the running gateway', async () => {
    const result = await runCli([
      'run',
      '-v',
      '-i',
      inventory({ archive: v2.file }),
      '--serial',
      '1',
    ]);
    expect(result.code, result.all).toBe(0);
    expect(result.stdout).toContain(`release ${v1.id} -> ${v2.id}`);
    for (let i = 1; i <= HOSTS; i++) {
      expect(await current(i)).toBe(`releases/${v2.id}`);
      expect(await releases(i)).toEqual([v1.id, v2.id].sort());
      expect(await runningFrom(i)).toContain(`/releases/${v2.id}/`);
    }
    const status = await runCli(['status', '-i', inventory({ archive: v2.file })]);
    expect(status.code, status.all).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`^host1 .*${v2.id}\\s+hermes-agent 2\\.0\\.0\\s+\\d+\\s+in sync`, 'm'),
    );
  });

  it('keep prunes the oldest switches, never the current release', async () => {
    const v3 = buildRelease('3.0.0', { flag: '--zstd', ending: '.tar.zst' });
    const v4 = buildRelease('4.0.0', { flag: '', ending: '.tar' });
    // A release a kept generation names is never pruned (a rollback may go back to it): with
    // one generation kept, that is the release before the switch, which keep 1 keeps anyway.
    const oneGeneration = { generations: { keep: 1 } };
    for (const next of [v3, v4]) {
      const result = await runCli([
        'run',
        '-i',
        inventory({ archive: next.file, keep: 1 }, oneGeneration),
      ]);
      expect(result.code, result.all).toBe(0);
    }
    for (let i = 1; i <= HOSTS; i++) {
      expect(await current(i)).toBe(`releases/${v4.id}`);
      // keep: 1 besides the current one: the release switched to before it.
      expect(await releases(i)).toEqual([v3.id, v4.id].sort());
    }
    // Back to v2 (uploaded again: it was pruned), with --limit and --shard selecting hosts.
    const limited = await runCli([
      'run',
      '-i',
      inventory({ archive: v2.file, keep: 1 }, oneGeneration),
      '--limit',
      'host1',
    ]);
    expect(limited.code, limited.all).toBe(0);
    expect(await current(1)).toBe(`releases/${v2.id}`);
    expect(await current(2)).toBe(`releases/${v4.id}`);
    for (const shard of ['1/2', '2/2']) {
      const result = await runCli([
        'run',
        '-i',
        inventory({ archive: v2.file, keep: 1 }, oneGeneration),
        '--shard',
        shard,
      ]);
      expect(result.code, result.all).toBe(0);
    }
    for (let i = 1; i <= HOSTS; i++) {
      expect(await current(i)).toBe(`releases/${v2.id}`);
      expect(await releases(i)).toEqual([v2.id, v4.id].sort());
    }
  });

  it('an upload cut off never gets its final name; the next run cleans up and installs it', async () => {
    const big = buildRelease('5.0.0', { flag: '', ending: '.tar', padding: 48_000_000 });
    let pid = 0;
    const run = runCli(['run', '-i', inventory({ archive: big.file }), '--limit', 'host1'], {
      onSpawn: (p) => (pid = p),
    });
    // Killed as soon as the host has started receiving it: the batch is spooled whole before
    // anything starts (src/apply/detach.sh), so a cut upload starts nothing at all.
    const seen = await fleet.ssh(
      1,
      'for n in $(seq 1 400); do for f in /var/lib/hermes-fleet/apply/ops.*; do [ -s "$f" ] && exit 0; done; sleep 0.05; done; exit 1',
    );
    expect(seen.code, 'the upload never started').toBe(0);
    process.kill(pid, 'SIGKILL');
    await run;
    // Whatever moment it died at: no release under its final name, current untouched.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await releases(1)).not.toContain(big.id);
    expect(await current(1)).toBe(`releases/${v2.id}`);
    // The partial spool (it may hold secrets) and the release's stage (unpacked as it arrived)
    // do not outlive the cut session.
    const spool = (await fleet.ssh(1, 'ls -A /var/lib/hermes-fleet/apply')).stdout;
    expect(spool).not.toContain('ops');
    expect(spool).not.toContain('stage');
    const again = await runCli(['run', '-i', inventory({ archive: big.file }), '--limit', 'host1']);
    expect(again.code, again.all).toBe(0);
    expect(await current(1)).toBe(`releases/${big.id}`);
    expect((await releases(1)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('hosts behind a bastion get the release through it', async () => {
    const v6 = buildRelease('6.0.0', { ending: '.tgz' });
    const jump = `root@${fleet.hostAddress(3)}`;
    const file = writeFleetInventory(HOSTS, {
      all: {
        vars: { hermes: { healthCheck: { seconds: 1 }, release: { archive: v6.file } } },
        hosts: { host1: { ssh: { jump } }, host2: { ssh: { jump } } },
      },
    });
    const result = await runCli(['run', '-i', file, '--limit', 'host1,host2', '--json']);
    expect(result.code, result.all).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.hosts.map((h) => h.status)).toEqual(['changed', 'changed']);
    for (const i of [1, 2]) expect(await current(i)).toBe(`releases/${v6.id}`);
  });

  it('refuses a missing archive and one without bin/hermes before contacting any host', async () => {
    const missing = await runCli(['run', '-i', inventory({ archive: 'nope/hermes.tar.gz' })]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/hosts\.yaml.*release\.archive/s);
    expect(missing.stderr).toContain('nope/hermes.tar.gz');
    const empty = join(scratchDir('empty-'), 'x');
    mkdirSync(empty);
    writeFileSync(join(empty, 'README'), 'no hermes here\n');
    const bad = join(scratchDir('bad-'), 'no-hermes.tar.gz');
    execFileSync('tar', ['--gzip', '-cf', bad, '-C', empty, '.']);
    const refused = await runCli(['run', '-i', inventory({ archive: bad })]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no bin/hermes');
    const both = await runCli([
      'run',
      '-i',
      inventory({ archive: v1.file }, { package: '/opt/x' }),
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('package and release cannot both be set');
  });
});
