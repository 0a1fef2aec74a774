// The fleet helpers' pure parts (no hosts needed).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  FLEET_NET,
  fleetPaths,
  hostSuitesEnv,
  parseStat,
  parseUnit,
  shellQuote,
  writeFleetInventory,
} from './fleet.js';

describe('fleet helpers', () => {
  it("names single hosts' Debian suites for fleet.sh's FLEET_HOST_SUITES", () => {
    expect(hostSuitesEnv({ 2: 'bullseye', 3: 'trixie' })).toBe('2=bullseye 3=trixie');
    expect(hostSuitesEnv({})).toBe('');
    expect(() => hostSuitesEnv({ 0: 'trixie' })).toThrow(/no test host 0/);
  });

  it('parses stat output into a file stat, and MISSING into null', () => {
    expect(parseStat('640 hermes hermes 12 1700000000 regular file\n')).toEqual({
      mode: 0o640,
      user: 'hermes',
      group: 'hermes',
      size: 12,
      mtime: 1700000000,
      type: 'file',
    });
    expect(parseStat('0 root root 0 1 regular empty file')?.type).toBe('file');
    expect(parseStat('2750 root adm 4096 1 directory')).toMatchObject({
      mode: 0o2750,
      type: 'directory',
    });
    expect(parseStat('777 root root 9 1 symbolic link')?.type).toBe('symlink');
    expect(parseStat('MISSING\n')).toBeNull();
    expect(() => parseStat('stat: oops')).toThrow(/unexpected stat output/);
  });

  it('parses systemctl show output', () => {
    const out =
      'LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n' +
      'ActiveEnterTimestamp=Fri 2026-11-27 08:43:02 UTC\nMainPID=42\nNRestarts=3\n';
    expect(parseUnit(out)).toEqual({
      active: 'active',
      enabled: 'enabled',
      activeEnterTimestamp: 'Fri 2026-11-27 08:43:02 UTC',
      mainPid: 42,
      sub: 'running',
      load: 'loaded',
      nRestarts: 3,
    });
  });

  it('quotes for the remote shell only what needs it', () => {
    expect(shellQuote('/var/lib/hermes/.hermes/config.yaml')).toBe(
      '/var/lib/hermes/.hermes/config.yaml',
    );
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(shellQuote('')).toBe(`''`);
  });

  it('writes an inventory for the fleet, deep-merging extra settings', () => {
    const file = writeFleetInventory(3, {
      all: { vars: { ssh: { user: 'deploy' }, hermes: { settings: { model: 'm' } } } },
    });
    const doc = parse(readFileSync(file, 'utf8')) as {
      all: { vars: { ssh: object; hermes: object }; hosts: Record<string, unknown> };
    };
    expect(doc.all.vars).toEqual({
      ssh: { user: 'deploy', identityFile: fleetPaths.key, knownHosts: fleetPaths.knownHosts },
      hermes: { settings: { model: 'm' } },
    });
    expect(Object.keys(doc.all.hosts)).toEqual(['host1', 'host2', 'host3']);
    expect(doc.all.hosts.host3).toEqual({ ssh: { host: `127.0.${FLEET_NET}.3` } });
  });
});
