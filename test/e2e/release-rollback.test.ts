// Issue 18 with releases (#14): a release whose gateway does not come up is rolled back on a
// real host: `current`, the unit and the running gateway all back on the previous release.
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';
import { buildRelease } from './release-archives.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const ROOT = '/opt/hermes-agent';
describeFleet('a broken release rolled back on a real host', () => {
  let fleet: Fleet;
  const good = buildRelease('1.0.0');
  const broken = buildRelease('2.0.0', { broken: true });
  const inventory = (archive: string) =>
    writeFleetInventory(1, {
      all: { vars: { hermes: { healthCheck: { seconds: 2 }, release: { archive } } } },
    });

  beforeAll(async () => {
    fleet = await bootFleet(1);
  });

  it('current, the unit and the running gateway go back to the previous release', async () => {
    const first = await runCli(['run', '-i', inventory(good.file)]);
    expect(first.code, first.all).toBe(0);
    const unitBefore = await fleet.read(1, `/etc/systemd/system/${UNIT}`);
    expect(unitBefore).toContain(`${ROOT}/releases/${good.id}/bin/hermes gateway`);
    const pidBefore = (await fleet.standinRecord(1))?.pid;

    const result = await runCli(['run', '-i', inventory(broken.file), '--json']);
    expect(result.code, result.all).toBe(2);
    const host = (JSON.parse(result.stdout) as JsonReport).hosts[0];
    expect(host?.status).toBe('failed');
    expect(host?.rollback).toMatchObject({ outcome: 'rolled-back', generation: 1 });
    expect(host?.message).toMatch(/^rolled back to generation 1: hermes-agent\.service is /);

    expect((await fleet.ssh(1, `readlink ${ROOT}/current`)).stdout.trim()).toBe(
      `releases/${good.id}`,
    );
    expect(await fleet.read(1, `/etc/systemd/system/${UNIT}`)).toBe(unitBefore);
    const reload = await fleet.ssh(1, `systemctl show -p NeedDaemonReload --value ${UNIT}`);
    expect(reload.stdout.trim()).toBe('no');
    expect(await fleet.unit(1, UNIT)).toMatchObject({ active: 'active' });
    const record = await fleet.standinRecord(1);
    expect(record?.pid).not.toBe(pidBefore);
    expect(record?.argv[0]).toContain(`/releases/${good.id}/`);
    // The broken release stays unpacked (harmless; pruned later), but nothing names it.
    const listed = await runCli(['generations', '-i', inventory(good.file), '--json']);
    const doc = JSON.parse(listed.stdout) as {
      hosts: { current: number; generations: { release: string | null }[] }[];
    };
    expect(doc.hosts[0]?.current).toBe(1);
    expect(doc.hosts[0]?.generations.map((g) => g.release)).toEqual([good.id]);
  });
});
