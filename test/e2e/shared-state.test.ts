// Issue: the NixOS module as it is today, shared state for people on the host. With
// addToSystemPackages a person in the account's group runs `hermes` against the gateway's own
// HERMES_HOME (exported to login shells), and can save config.yaml, under the module's shared
// modes (setgid 2770 directories, config.yaml 0660, .env 0640, UMask=0007); the person still
// writes nothing in root's trees, and the fleet keeps the key the person added.
import { beforeAll, expect, it } from 'vitest';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runCli } from './cli.js';

const STATE = '/var/lib/hermes';
const HOME = `${STATE}/.hermes`;

describeFleet('shared state for a person on a real host', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await bootFleet(1);
    await fleet.reset(1);
  });

  it('lets a person in the group use and change the shared HERMES_HOME, and nothing of root’s', async () => {
    const hermes = {
      healthCheck: { seconds: 1 },
      addToSystemPackages: true,
      settings: { model: 'm/shared' },
      environment: { SHARED_ENV: 'yes' },
    };
    const inventory = writeFleetInventory(1, { all: { vars: { hermes } } });
    const first = await runCli(['run', '-i', inventory]);
    expect(first.code, first.all).toBe(0);

    for (const dir of [STATE, HOME, `${HOME}/sessions`, `${HOME}/plugins`, `${STATE}/workspace`]) {
      expect(await fleet.stat(1, dir), dir).toMatchObject({ mode: 0o2770, group: 'hermes' });
    }
    expect(await fleet.stat(1, `${STATE}/home`)).toMatchObject({ mode: 0o750 });
    expect(await fleet.stat(1, `${HOME}/config.yaml`)).toMatchObject({ mode: 0o660 });
    expect(await fleet.stat(1, `${HOME}/.env`)).toMatchObject({ mode: 0o640 });
    const umask = await fleet.ssh(1, 'systemctl show -p UMask hermes-agent.service');
    expect(umask.stdout.trim()).toBe('UMask=0007');

    await fleet.ssh(1, 'useradd -m -s /bin/bash ana && usermod -aG hermes ana');
    const asAna = (cmd: string) => fleet.ssh(1, `runuser -l ana -c '${cmd}'`);
    expect((await asAna('echo $HERMES_HOME')).stdout.trim()).toBe(HOME);
    const version = await asAna('hermes --version');
    expect(version.code, version.stderr).toBe(0);
    // The person saves a setting, and what the person's CLI writes the gateway can read.
    expect((await asAna('printf "ana_key: kept\\n" >> $HERMES_HOME/config.yaml')).code).toBe(0);
    expect((await asAna('umask 0007; echo "{}" > $HERMES_HOME/sessions/ana.json')).code).toBe(0);
    expect(await fleet.stat(1, `${HOME}/sessions/ana.json`)).toMatchObject({ group: 'hermes' });
    const read = await fleet.ssh(1, `runuser -u hermes -- cat ${HOME}/sessions/ana.json`);
    expect(read.stdout.trim()).toBe('{}');
    // Nothing of root's is the person's to write.
    for (const path of [
      '/usr/local/lib/hermes-fleet/x',
      '/var/lib/hermes-fleet/x',
      '/etc/systemd/system/hermes-agent.service',
      '/etc/profile.d/hermes-fleet.sh',
      '/usr/local/bin/hermes',
    ]) {
      expect((await asAna(`touch ${path}`)).code, path).not.toBe(0);
    }

    // The next runs keep the person's key and the shared modes, then change nothing.
    const second = await runCli(['run', '-i', inventory]);
    expect(second.code, second.all).toBe(0);
    expect(await fleet.read(1, `${HOME}/config.yaml`)).toContain('ana_key: kept');
    expect(await fleet.stat(1, `${HOME}/config.yaml`)).toMatchObject({ mode: 0o660 });
    const noop = await runCli(['run', '-i', inventory, '--detailed-exitcode']);
    expect(noop.code, noop.all).toBe(0);

    // Without addToSystemPackages: the stricter modes come back, the export goes.
    const strict = writeFleetInventory(1, {
      all: { vars: { hermes: { ...hermes, addToSystemPackages: false } } },
    });
    const back = await runCli(['run', '-i', strict]);
    expect(back.code, back.all).toBe(0);
    expect(await fleet.stat(1, '/etc/profile.d/hermes-fleet.sh')).toBeNull();
    expect(await fleet.stat(1, HOME)).toMatchObject({ mode: 0o750 });
    expect(await fleet.stat(1, `${HOME}/.env`)).toMatchObject({ mode: 0o600 });
  });

  it('container.hostUsers: the person joins the group, ~/.hermes links the shared state, a real one is kept aside', async () => {
    await fleet.ssh(1, 'useradd -m -s /bin/bash bob');
    await fleet.ssh(
      1,
      "runuser -u bob -- sh -c 'mkdir ~/.hermes && echo mine > ~/.hermes/notes.txt'",
    );
    const hermes = {
      healthCheck: { seconds: 1 },
      settings: { model: 'm/shared' },
      container: { hostUsers: ['bob'] },
    };
    const inventory = writeFleetInventory(1, { all: { vars: { hermes } } });
    const check = await runCli(['run', '-i', inventory, '--check', '--json']);
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toContain('add bob to group hermes');
    expect(check.stdout).toContain(
      'set /home/bob/.hermes aside as /home/bob/.hermes.before-hermes-fleet',
    );

    const run = await runCli(['run', '-i', inventory]);
    expect(run.code, run.all).toBe(0);
    expect((await fleet.ssh(1, 'id -nG bob')).stdout.split(' ').map((g) => g.trim())).toContain(
      'hermes',
    );
    expect((await fleet.ssh(1, 'readlink /home/bob/.hermes')).stdout.trim()).toBe(HOME);
    expect(await fleet.stat(1, '/home/bob/.hermes')).toMatchObject({ user: 'bob' });
    expect(await fleet.read(1, '/home/bob/.hermes.before-hermes-fleet/notes.txt')).toBe('mine\n');
    // Through the link, with the shared modes: bob saves a setting, and the fleet keeps it.
    expect(await fleet.stat(1, `${HOME}/config.yaml`)).toMatchObject({ mode: 0o660 });
    const write = await fleet.ssh(
      1,
      `runuser -l bob -c 'printf "bob_key: kept\\n" >> ~/.hermes/config.yaml'`,
    );
    expect(write.code, write.stderr).toBe(0);
    const again = await runCli(['run', '-i', inventory]);
    expect(again.code, again.all).toBe(0);
    expect(await fleet.read(1, `${HOME}/config.yaml`)).toContain('bob_key: kept');
    const noop = await runCli(['run', '-i', inventory, '--detailed-exitcode']);
    expect(noop.code, noop.all).toBe(0);
    // Nothing outside the shared state became bob's or the account's.
    const owned = await fleet.ssh(
      1,
      `find / -xdev \\( -user hermes -o -user bob \\) ! -path '${STATE}' ! -path '${STATE}/*' ! -path '/home/bob' ! -path '/home/bob/*' ! -path '/tmp/*' ! -path '/var/tmp/*' ! -path '/var/mail/*' -print`,
    );
    expect(owned.stdout).toBe('');
  });
});
