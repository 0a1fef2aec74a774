// Issue: the NixOS module as it is today, extraPlugins. A plugin (a local directory, or an
// archive of one) is unpacked root-owned into the fleet's store and linked into
// HERMES_HOME/plugins as fleet-managed-<name>, read-only to the account; a changed plugin
// restarts the gateway and is part of a generation (rollback links the old one again); a
// dropped one loses its link, and a person's own plugin there stays.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';

const PLUGINS = '/var/lib/hermes/.hermes/plugins';
const STORE = '/usr/local/lib/hermes-fleet/plugins';

function writePlugin(dir: string, body: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'plugin.yaml'), `name: ${body}\nversion: 1\n`);
  writeFileSync(join(dir, '__init__.py'), `# ${body}\n`);
}

describeFleet('extraPlugins on a real host', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await bootFleet(1);
    await fleet.reset(1);
  });

  it('installs, changes (restart, generation, rollback) and removes plugins, keeping a person’s own', async () => {
    const hermes = (plugins: unknown[]) => ({
      all: { vars: { hermes: { healthCheck: { seconds: 1 }, extraPlugins: plugins } } },
    });
    const inventory = writeFleetInventory(1, hermes(['plugins/lcm', 'dist/memo.tar.gz']));
    const dir = dirname(inventory);
    writePlugin(join(dir, 'plugins/lcm'), 'lcm one');
    writePlugin(join(dir, 'build/memo'), 'memo');
    mkdirSync(join(dir, 'dist'));
    execFileSync('tar', ['-czf', join(dir, 'dist/memo.tar.gz'), '-C', join(dir, 'build'), 'memo']);

    const check = await runCli(['run', '-i', inventory, '--check', '--diff']);
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toMatch(/upload plugin lcm [0-9a-f]{16}/);
    expect(check.stdout).toMatch(/upload plugin memo [0-9a-f]{16}/);
    expect(await fleet.stat(1, STORE)).toBeNull();

    const first = await runCli(['run', '-i', inventory]);
    expect(first.code, first.all).toBe(0);
    const link = await fleet.ssh(1, `readlink ${PLUGINS}/fleet-managed-lcm`);
    const lcmOne = link.stdout.trim();
    expect(lcmOne).toMatch(new RegExp(`^${STORE}/[0-9a-f]{16}$`));
    expect(await fleet.stat(1, `${PLUGINS}/fleet-managed-lcm`)).toMatchObject({ user: 'hermes' });
    expect(await fleet.stat(1, lcmOne)).toMatchObject({ user: 'root', mode: 0o755 });
    expect(await fleet.stat(1, `${lcmOne}/plugin.yaml`)).toMatchObject({
      user: 'root',
      mode: 0o644,
    });
    // The archive's one top-level directory is its plugin.
    expect(await fleet.read(1, `${PLUGINS}/fleet-managed-memo/plugin.yaml`)).toBe(
      'name: memo\nversion: 1\n',
    );
    // The account reads its plugins and can change none of them.
    const asHermes = (cmd: string) => fleet.ssh(1, `runuser -u hermes -- sh -c '${cmd}'`);
    expect((await asHermes(`cat ${PLUGINS}/fleet-managed-lcm/plugin.yaml`)).stdout).toBe(
      'name: lcm one\nversion: 1\n',
    );
    expect((await asHermes(`echo x >> ${PLUGINS}/fleet-managed-lcm/plugin.yaml`)).code).not.toBe(0);
    expect((await asHermes(`touch ${lcmOne}/evil.py`)).code).not.toBe(0);

    // A person's own plugin beside them.
    await asHermes(`mkdir ${PLUGINS}/mine && echo "name: mine" > ${PLUGINS}/mine/plugin.yaml`);
    const startedOne = (await fleet.standinRecord(1))?.started_at;

    writePlugin(join(dir, 'plugins/lcm'), 'lcm two');
    const changed = await runCli(['run', '-i', inventory, '--json']);
    expect(changed.code, changed.all).toBe(0);
    const summaries = (
      JSON.parse(changed.stdout) as { hosts: { tasks: { changes: { summary: string }[] }[] }[] }
    ).hosts.flatMap((h) => h.tasks.flatMap((t) => t.changes.map((c) => c.summary)));
    expect(summaries.find((line) => line.startsWith('restart'))).toContain('plugin lcm changed');
    const lcmTwo = (await fleet.ssh(1, `readlink ${PLUGINS}/fleet-managed-lcm`)).stdout.trim();
    expect(lcmTwo).not.toBe(lcmOne);
    expect((await fleet.standinRecord(1))?.started_at).not.toBe(startedOne);
    const manifest = await fleet.ssh(
      1,
      'cat /var/lib/hermes-fleet/generations/$(cat /var/lib/hermes-fleet/generations/current)/manifest',
    );
    expect(manifest.stdout).toContain(`plugins/lcm\tlink\t${lcmTwo}\t`);

    // Back to the generation before: the old plugin's link, and its tree was kept for it.
    const back = await runCli(['rollback', '-i', inventory]);
    expect(back.code, back.all).toBe(0);
    expect((await fleet.ssh(1, `readlink ${PLUGINS}/fleet-managed-lcm`)).stdout.trim()).toBe(
      lcmOne,
    );
    expect(await fleet.read(1, `${PLUGINS}/fleet-managed-lcm/plugin.yaml`)).toBe(
      'name: lcm one\nversion: 1\n',
    );

    // memo leaves the inventory: its link goes, the person's plugin stays.
    const dropped = writeFleetInventory(1, hermes([join(dir, 'plugins/lcm')]));
    const drop = await runCli(['run', '-i', dropped, '--diff']);
    expect(drop.code, drop.all).toBe(0);
    expect(drop.stdout).toContain(`${PLUGINS}/fleet-managed-memo: removed`);
    expect(await fleet.stat(1, `${PLUGINS}/fleet-managed-memo`)).toBeNull();
    expect(await fleet.read(1, `${PLUGINS}/mine/plugin.yaml`)).toBe('name: mine\n');
    expect((await fleet.ssh(1, `readlink ${PLUGINS}/fleet-managed-lcm`)).stdout.trim()).toBe(
      lcmTwo,
    );

    const noop = await runCli(['run', '-i', dropped, '--detailed-exitcode']);
    expect(noop.code, noop.all).toBe(0);
  });

  it('refuses two plugins with one name, and one without plugin.yaml, before any host', async () => {
    const inventory = writeFleetInventory(1, {
      all: { vars: { hermes: { extraPlugins: ['a/lcm', { path: 'b/other', name: 'lcm' }] } } },
    });
    const dir = dirname(inventory);
    writePlugin(join(dir, 'a/lcm'), 'a');
    writePlugin(join(dir, 'b/other'), 'b');
    const twice = await runCli(['validate', '-i', inventory]);
    expect(twice.code, twice.all).toBe(1);
    expect(twice.stderr).toMatch(/hosts\.yaml:\d+:\d+: .*extraPlugins: two plugins are named lcm/);

    const bare = writeFleetInventory(1, { all: { vars: { hermes: { extraPlugins: ['empty'] } } } });
    mkdirSync(join(dirname(bare), 'empty'));
    const none = await runCli(['validate', '-i', bare]);
    expect(none.code, none.all).toBe(1);
    expect(none.stderr).toMatch(/extraPlugins: cannot use the plugin empty .*no plugin\.yaml/);
  });
});
