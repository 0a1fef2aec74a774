// Issue: the NixOS module as it is today, extraPackages. On Debian they are apt packages:
// check mode says what would be installed, the run installs what the host lacks (before the
// gateway's start), they are on the service's PATH, a second run installs nothing, and a host
// without apt-get fails with a message that says so. (The hosts reach Debian's mirror through
// the machine's own apt sources.)
import { beforeAll, expect, it } from 'vitest';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';

interface Report {
  hosts: { tasks: { task: string; status: string; changes: { summary: string }[] }[] }[];
}

const summaries = (stdout: string, task: string): string[] =>
  (JSON.parse(stdout) as Report).hosts.flatMap((h) =>
    h.tasks.filter((t) => t.task === task).flatMap((t) => t.changes.map((c) => c.summary)),
  );

describeFleet('extraPackages on a real host', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await bootFleet(1);
    await fleet.reset(1);
  });

  it(
    'installs a missing package once (check mode first), on the service’s PATH',
    { timeout: 300_000 },
    async () => {
      const inventory = writeFleetInventory(1, {
        all: { vars: { hermes: { healthCheck: { seconds: 1 }, extraPackages: ['tree'] } } },
      });
      const check = await runCli(['run', '-i', inventory, '--check', '--json']);
      expect(check.code, check.all).toBe(0);
      expect(summaries(check.stdout, 'packages')).toEqual(['install packages tree (apt-get)']);
      expect((await fleet.ssh(1, 'command -v tree')).code).not.toBe(0);

      const run = await runCli(['run', '-i', inventory, '--json']);
      expect(run.code, run.all).toBe(0);
      expect(summaries(run.stdout, 'packages')).toEqual(['install packages tree (apt-get)']);
      const status = await fleet.ssh(1, "dpkg-query -W -f '${db:Status-Abbrev}' tree");
      expect(status.stdout.trim()).toBe('ii');
      // The gateway's PATH reaches it: the unit's, and what `exec --as service` gives a command.
      const env = await fleet.ssh(1, 'systemctl show -p Environment hermes-agent.service');
      expect(env.stdout).toMatch(/PATH=[^ ]*:\/usr\/bin:/);
      const asService = await runCli([
        'exec',
        '-i',
        inventory,
        '--as',
        'service',
        '--',
        'tree',
        '--version',
      ]);
      expect(asService.code, asService.all).toBe(0);
      expect(asService.stdout).toMatch(/tree v2/);

      const again = await runCli(['run', '-i', inventory, '--detailed-exitcode']);
      expect(again.code, again.all).toBe(0);
    },
  );

  it(
    'fails a host without apt-get with a clear message, changing nothing',
    { timeout: 120_000 },
    async () => {
      await fleet.ssh(1, 'mv /usr/bin/apt-get /usr/bin/apt-get.away');
      try {
        const inventory = writeFleetInventory(1, {
          all: { vars: { hermes: { healthCheck: { seconds: 1 }, extraPackages: ['tree', 'jq'] } } },
        });
        const result = await runCli(['run', '-i', inventory]);
        expect(result.code, result.all).toBe(2);
        expect(result.all).toContain('this host has no apt-get (missing: jq)');
      } finally {
        await fleet.ssh(1, 'mv /usr/bin/apt-get.away /usr/bin/apt-get');
      }
    },
  );

  it('refuses a name that is no Debian package name before any host', async () => {
    const inventory = writeFleetInventory(1, {
      all: { vars: { hermes: { extraPackages: ['--allow-unauthenticated'] } } },
    });
    const result = await runCli(['validate', '-i', inventory]);
    expect(result.code, result.all).toBe(1);
    expect(result.stderr).toMatch(
      /hosts\.yaml:\d+:\d+: .*extraPackages\[0\]: must be a Debian package name/,
    );
  });
});
