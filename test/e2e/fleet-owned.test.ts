// Issue: fleet-owned keys. What hermes-fleet put on a host and the inventory no longer has
// leaves the host: a nested settings key (and the map it empties), an mcp server, an
// environment key, a secret and a document, each proved on the host and in what the stand-in
// gateway read after its restart. A person's own key and file survive.
import { beforeAll, expect, it } from 'vitest';
import {
  bootFleet,
  describeFleet,
  sha256Hex,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { runCli } from './cli.js';

const HOSTS = 2;
const HOME = '/var/lib/hermes/.hermes';
const WORK = '/var/lib/hermes/workspace';
const OLD_TOKEN = 'sk-old-token-must-never-show-0123456789';

const before = {
  healthCheck: { seconds: 1 },
  settings: { model: 'm/one', compression: { threshold: 0.85 }, keep: { x: 1 } },
  mcpServers: { search: { command: 'npx', args: ['-y', 'search-server'] } },
  environment: { KEEP_ENV: 'kept', OLD_ENV: 'old' },
  secrets: { OLD_TOKEN: { env: 'E2E_OLD_TOKEN' } },
  documents: { 'SOUL.md': 'soul\n', 'OLD.md': 'old document\n' },
};
const after = {
  healthCheck: { seconds: 1 },
  settings: { model: 'm/one', keep: { x: 1 } },
  environment: { KEEP_ENV: 'kept' },
  documents: { 'SOUL.md': 'soul\n' },
};

describeFleet('fleet-owned keys on real hosts', () => {
  let fleet: Fleet;
  const env = { E2E_OLD_TOKEN: OLD_TOKEN };

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    await fleet.reset(...Array.from({ length: HOSTS }, (_, i) => i + 1));
  });

  it('removes what left the inventory, keeps what a person added, then is a no-op', async () => {
    const first = await runCli(
      ['run', '-i', writeFleetInventory(HOSTS, { all: { vars: { hermes: before } } })],
      { env },
    );
    expect(first.code, first.all).toBe(0);
    for (let i = 1; i <= HOSTS; i++) {
      await fleet.ssh(i, `printf 'mine: kept\\n' >> ${HOME}/config.yaml`);
      await fleet.ssh(i, `runuser -u hermes -- sh -c 'echo notes > ${WORK}/notes.txt'`);
    }
    const startedBefore = (await fleet.standinRecord(1))?.started_at;

    const inventory = writeFleetInventory(HOSTS, { all: { vars: { hermes: after } } });
    const check = await runCli(
      ['run', '-i', inventory, '--check', '--diff', '--detailed-exitcode'],
      { env },
    );
    expect(check.code, check.all).toBe(3);
    expect(check.stdout).toContain('- compression.threshold (no longer in the inventory)');
    expect(check.stdout).toContain('- mcp_servers.search.command (no longer in the inventory)');
    expect(check.stdout).toContain('- OLD_TOKEN (secret removed)');
    expect(check.stdout).toContain('- OLD_ENV (secret removed)');
    expect(check.stdout).toContain(`host1:${WORK}/OLD.md: removed (no longer in the inventory)`);
    // Each removal comes before the unified diff of config.yaml.
    const config = check.stdout.indexOf(`--- host1:${HOME}/config.yaml`);
    expect(check.stdout.indexOf('- compression.threshold')).toBeLessThan(config);
    expect(check.all).not.toContain(OLD_TOKEN);

    const json = await runCli(['run', '-i', inventory, '--check', '--json'], { env });
    const report = JSON.parse(json.stdout) as {
      hosts: { tasks: { task: string; changes: { removes?: string[]; summary: string }[] }[] }[];
    };
    const merge = report.hosts[0]?.tasks.find((t) => t.task === 'merge');
    expect(merge?.changes.find((c) => c.removes)?.removes).toEqual([
      'compression.threshold',
      'mcp_servers.search.command',
      'mcp_servers.search.args',
      'mcp_servers.search.enabled',
    ]);
    expect(json.stdout).not.toContain(OLD_TOKEN);

    const run = await runCli(['run', '-i', inventory], { env });
    expect(run.code, run.all).toBe(0);
    for (let i = 1; i <= HOSTS; i++) {
      const text = (await fleet.read(i, `${HOME}/config.yaml`)) ?? '';
      expect(text).not.toContain('compression');
      expect(text).not.toContain('mcp_servers');
      expect(text).toContain('mine: kept');
      expect(text).toContain('model: m/one');
      const dotenv = (await fleet.ssh(i, `cat ${HOME}/.env`)).stdout;
      expect(dotenv).toContain('KEEP_ENV');
      expect(dotenv).not.toContain('OLD_ENV');
      expect(dotenv).not.toContain('OLD_TOKEN');
      expect(await fleet.stat(i, `${WORK}/OLD.md`)).toBeNull();
      expect(await fleet.read(i, `${WORK}/notes.txt`)).toBe('notes\n');
      // What the gateway read after the restart the removals caused.
      const record = await fleet.standinRecord(i);
      expect(record?.config).not.toHaveProperty('compression');
      expect(record?.config).not.toHaveProperty('mcp_servers');
      expect(record?.config).toMatchObject({ mine: 'kept', keep: { x: 1 } });
      expect(record?.env).toEqual({ KEEP_ENV: sha256Hex('kept') });
    }
    expect((await fleet.standinRecord(1))?.started_at).not.toBe(startedBefore);

    const again = await runCli(['run', '-i', inventory, '--detailed-exitcode'], { env });
    expect(again.code, again.all).toBe(0);
  });
});
