// Issue: the NixOS module as it is today, nested document keys. A key with a directory lands
// relative to stateDir (`.hermes/SOUL.md` in HERMES_HOME), its missing directories made as the
// account; a plain name keeps its place in workingDirectory. A dropped key's file goes (and the
// gateway restarts); a key that would leave the tree is refused before any host is contacted.
import { beforeAll, expect, it } from 'vitest';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';

const STATE = '/var/lib/hermes';
const HOME = `${STATE}/.hermes`;

const documents = {
  'AGENTS.md': 'agents\n',
  '.hermes/SOUL.md': 'soul\n',
  '.hermes/memories/USER.md': 'user\n',
  'notes/deep/TODO.md': 'todo\n',
};

describeFleet('nested documents on a real host', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await bootFleet(1);
    await fleet.reset(1);
  });

  it('writes each key where the module puts it, removes a dropped one, then is a no-op', async () => {
    const hermes = { healthCheck: { seconds: 1 }, documents };
    const first = await runCli([
      'run',
      '-i',
      writeFleetInventory(1, { all: { vars: { hermes } } }),
    ]);
    expect(first.code, first.all).toBe(0);

    expect(await fleet.read(1, `${STATE}/workspace/AGENTS.md`)).toBe('agents\n');
    expect(await fleet.read(1, `${HOME}/SOUL.md`)).toBe('soul\n');
    expect(await fleet.read(1, `${HOME}/memories/USER.md`)).toBe('user\n');
    expect(await fleet.read(1, `${STATE}/notes/deep/TODO.md`)).toBe('todo\n');
    for (const path of [`${HOME}/SOUL.md`, `${STATE}/notes/deep/TODO.md`]) {
      expect(await fleet.stat(1, path)).toMatchObject({
        user: 'hermes',
        group: 'hermes',
        mode: 0o640,
      });
    }
    // The parents the documents needed, the account's, with its directories' mode.
    for (const path of [`${STATE}/notes`, `${STATE}/notes/deep`]) {
      expect(await fleet.stat(1, path)).toMatchObject({
        user: 'hermes',
        group: 'hermes',
        mode: 0o750,
      });
    }
    const startedBefore = (await fleet.standinRecord(1))?.started_at;

    // A person's own file beside them stays.
    await fleet.ssh(1, `runuser -u hermes -- sh -c 'echo mine > ${STATE}/notes/deep/MINE.md'`);
    const dropped = {
      healthCheck: { seconds: 1 },
      documents: { 'AGENTS.md': 'agents\n', '.hermes/SOUL.md': 'soul 2\n' },
    };
    const inventory = writeFleetInventory(1, { all: { vars: { hermes: dropped } } });
    const check = await runCli(['run', '-i', inventory, '--check', '--diff']);
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toContain(
      `host1:${HOME}/memories/USER.md: removed (no longer in the inventory)`,
    );
    expect(check.stdout).toContain(
      `host1:${STATE}/notes/deep/TODO.md: removed (no longer in the inventory)`,
    );

    const second = await runCli(['run', '-i', inventory]);
    expect(second.code, second.all).toBe(0);
    expect(await fleet.stat(1, `${HOME}/memories/USER.md`)).toBeNull();
    expect(await fleet.stat(1, `${STATE}/notes/deep/TODO.md`)).toBeNull();
    expect(await fleet.read(1, `${STATE}/notes/deep/MINE.md`)).toBe('mine\n');
    expect(await fleet.read(1, `${HOME}/SOUL.md`)).toBe('soul 2\n');
    // The gateway reads them: it restarted, and the generation keeps the nested one.
    expect((await fleet.standinRecord(1))?.started_at).not.toBe(startedBefore);
    const kept = await fleet.ssh(
      1,
      'cat /var/lib/hermes-fleet/generations/current | xargs -I{} cat /var/lib/hermes-fleet/generations/{}/manifest | cut -f1',
    );
    expect(kept.stdout.split('\n')).toContain('documents/.hermes/SOUL.md');

    const noop = await runCli(['run', '-i', inventory, '--detailed-exitcode']);
    expect(noop.code, noop.all).toBe(0);
  });

  it('refuses, before any host, a key that leaves the tree or lands on a file the fleet writes', async () => {
    for (const [key, message] of [
      [
        '../../etc/cron.d/x',
        /documents\["\.\.\/\.\.\/etc\/cron\.d\/x"\]: .*path relative to stateDir/,
      ],
      ['.hermes/.env', /documents\["\.hermes\/\.env"\]: .*a file hermes-fleet writes/],
    ] as const) {
      const inventory = writeFleetInventory(1, {
        all: { vars: { hermes: { documents: { [key]: 'x' } } } },
      });
      const result = await runCli(['run', '-i', inventory]);
      expect(result.code, result.all).toBe(1);
      expect(result.stderr).toMatch(/hosts\.yaml:\d+:\d+: /);
      expect(result.stderr).toMatch(message);
    }
    // A link the account put where a document's directory goes: nothing is written through it.
    await fleet.ssh(
      1,
      `runuser -u hermes -- sh -c 'rm -rf ${STATE}/notes && ln -s /etc ${STATE}/notes'`,
    );
    const inventory = writeFleetInventory(1, {
      all: {
        vars: { hermes: { healthCheck: { seconds: 1 }, documents: { 'notes/x.md': 'x\n' } } },
      },
    });
    const result = await runCli(['run', '-i', inventory]);
    expect(result.code, result.all).toBe(2);
    expect(result.all).toContain(`${STATE}/notes is a symbolic link to /etc`);
    expect(await fleet.stat(1, '/etc/x.md')).toBeNull();
  });
});
