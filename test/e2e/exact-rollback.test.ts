// Issue 22: a manual rollback puts back exactly what ran. After v1 then v2 (healthy), a broken
// release and a rejected config (both rolled back by themselves), `rollback` goes back to v1:
// the `current` link, the unit, the running gateway, `status` and the generation it records all
// name v1. Pruning spares a release that a kept generation names, and `rollback --to` a
// generation whose release is gone is refused before anything changes.
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';
import { buildRelease } from './release-archives.js';

const ROOT = '/opt/hermes-agent';
const UNIT = 'hermes-agent.service';

interface GenerationsDoc {
  hosts: { current: number; generations: { number: number; release: string | null }[] }[];
}

describeFleet('a manual rollback that puts back exactly what ran, on a real host', () => {
  let fleet: Fleet;
  const v1 = buildRelease('1.0.0');
  const v2 = buildRelease('2.0.0');
  const v3 = buildRelease('3.0.0');
  const broken = buildRelease('9.0.0', { broken: true });
  const inventory = (archive: string, extra: object = {}, keep = 3) =>
    writeFleetInventory(1, {
      all: {
        vars: {
          hermes: {
            healthCheck: { seconds: 2 },
            release: { archive, keep },
            settings: { model: 'm' },
            ...extra,
          },
        },
      },
    });

  beforeAll(async () => {
    fleet = await bootFleet(1);
  });

  async function running(): Promise<{ current: string; unit: string; gateway: string }> {
    const current = (await fleet.ssh(1, `readlink ${ROOT}/current`)).stdout.trim();
    const unit = (await fleet.read(1, `/etc/systemd/system/${UNIT}`)) ?? '';
    const record = await fleet.standinRecord(1);
    return {
      current: current.replace(/^releases\//, ''),
      unit: /\/releases\/([0-9a-f]{16})\/bin\/hermes gateway/.exec(unit)?.[1] ?? '',
      gateway: /\/releases\/([0-9a-f]{16})\//.exec(record?.argv[0] ?? '')?.[1] ?? '',
    };
  }

  async function generations(archive: string): Promise<GenerationsDoc['hosts'][number]> {
    const listed = await runCli(['generations', '-i', inventory(archive), '--json']);
    expect(listed.code, listed.all).toBe(0);
    const host = (JSON.parse(listed.stdout) as GenerationsDoc).hosts[0];
    if (!host) throw new Error('no host in the generations report');
    return host;
  }

  it('current, the unit, the gateway, status and the new generation all name the release it went back to', async () => {
    for (const release of [v1, v2]) {
      const run = await runCli(['run', '-i', inventory(release.file)]);
      expect(run.code, run.all).toBe(0);
    }
    // A broken release and a rejected config, each rolled back by the run itself.
    const bad = await runCli(['run', '-i', inventory(broken.file), '--json']);
    expect(bad.code, bad.all).toBe(2);
    expect((JSON.parse(bad.stdout) as JsonReport).hosts[0]?.rollback?.outcome).toBe('rolled-back');
    const rejected = await runCli([
      'run',
      '-i',
      inventory(v2.file, { environment: { HERMES_STANDIN_FAIL: '1' } }),
      '--json',
    ]);
    expect(rejected.code, rejected.all).toBe(2);
    expect(await running()).toEqual({ current: v2.id, unit: v2.id, gateway: v2.id });
    expect((await generations(v2.file)).generations.map((g) => g.release)).toEqual([v1.id, v2.id]);

    const check = await runCli(['rollback', '-i', inventory(v2.file), '--check', '--json']);
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toContain(`switch current: ${v2.id} -> ${v1.id}`);
    expect(await running()).toEqual({ current: v2.id, unit: v2.id, gateway: v2.id });

    const back = await runCli(['rollback', '-i', inventory(v2.file)]);
    expect(back.code, back.all).toBe(0);
    expect(await running()).toEqual({ current: v1.id, unit: v1.id, gateway: v1.id });
    const status = await runCli(['status', '-i', inventory(v2.file), '--json']);
    const host = (JSON.parse(status.stdout) as { hosts: { release: string; version: string }[] })
      .hosts[0];
    expect(host?.release).toBe(v1.id);
    expect(host?.version).toBe('hermes-agent 1.0.0');
    const after = await generations(v2.file);
    expect(after.current).toBe(3);
    expect(after.generations.map((g) => g.release)).toEqual([v1.id, v2.id, v1.id]);
  });

  it('pruning with keep 1 spares a release that a kept generation names', async () => {
    const run = await runCli(['run', '-i', inventory(v3.file, {}, 1)]);
    expect(run.code, run.all).toBe(0);
    expect(await running()).toEqual({ current: v3.id, unit: v3.id, gateway: v3.id });
    const listed = (await fleet.ssh(1, `ls ${ROOT}/releases`)).stdout.trim().split('\n');
    // v1 and v2 are named by generations 1-3; the broken release by none: it goes.
    expect(listed.sort()).toEqual([v1.id, v2.id, v3.id].sort());
  });

  it('rollback --to a generation whose release is gone is refused before anything changes', async () => {
    // generations.keep 1 leaves only the newest generation; then v1's and v2's releases go.
    const trim = await runCli([
      'run',
      '-i',
      inventory(v3.file, { generations: { keep: 1 }, settings: { model: 'n' } }, 0),
    ]);
    expect(trim.code, trim.all).toBe(0);
    const kept = await generations(v3.file);
    expect(kept.generations.map((g) => g.release)).toEqual([v3.id]);
    await runCli(['run', '-i', inventory(v3.file, { settings: { model: 'n' } }, 0)]);
    expect((await fleet.ssh(1, `ls ${ROOT}/releases`)).stdout.trim()).toBe(v3.id);
    // A generation that names a release no longer there: written as an older run left it.
    await fleet.ssh(
      1,
      `cp -a /var/lib/hermes-fleet/generations/${kept.current} /var/lib/hermes-fleet/generations/1 && sed -i 's/^release=.*/release=${v1.id}/' /var/lib/hermes-fleet/generations/1/meta`,
    );
    const before = await running();
    const refused = await runCli(['rollback', '-i', inventory(v3.file), '--to', '1', '--json']);
    expect(refused.code, refused.all).toBe(2);
    expect((JSON.parse(refused.stdout) as JsonReport).hosts[0]?.message).toContain(
      `generation 1 runs release ${v1.id}, which is no longer on this host`,
    );
    expect(await running()).toEqual(before);
  });
});
