// Issue 18 with releases (#14): a release whose gateway does not come up is rolled back on a
// real host: `current`, the unit and the running gateway all back on the previous release.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';

const ROOT = '/opt/hermes-agent';
const UNIT = 'hermes-agent.service';
const STANDIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'fleet', 'stand-in-hermes.py');
const work = mkdtempSync(join(tmpdir(), 'hermes-fleet-release-rollback-'));

/** A release tree packed by tar; a broken one's gateway exits 1 at start-up. */
function buildRelease(version: string, broken: boolean): { file: string; id: string } {
  const dir = mkdtempSync(join(work, 'tree-'));
  const top = join(dir, `hermes-agent-${version}`);
  mkdirSync(join(top, 'bin'), { recursive: true });
  mkdirSync(join(top, 'lib'));
  copyFileSync(STANDIN, join(top, 'lib', 'stand-in-hermes.py'));
  writeFileSync(
    join(top, 'bin', 'hermes'),
    [
      '#!/bin/sh',
      `if [ "$1" = --version ]; then echo "hermes-agent ${version}"; exit 0; fi`,
      ...(broken ? ['echo "release ${version} is broken" >&2', 'exit 1'] : []),
      'exec /usr/bin/python3 "$(dirname "$0")/../lib/stand-in-hermes.py" "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(join(top, 'bin', 'hermes'), 0o755);
  const file = join(work, `hermes-agent-${version}.tar.gz`);
  execFileSync('tar', ['--gzip', '-cf', file, '-C', dir, `hermes-agent-${version}`]);
  const id = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  return { file, id };
}

describeFleet('a broken release rolled back on a real host', () => {
  let fleet: Fleet;
  const good = buildRelease('1.0.0', false);
  const broken = buildRelease('2.0.0', true);
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
