// Issue: root never follows a path that the service account controls. The gateway's account
// owns stateDir and runs an AI agent with a terminal tool, so it may run anything: here it swaps
// workspace, .hermes and a nested document's directory for links to /etc/sudoers.d and back,
// every few tens of milliseconds, while 30 runs deploy changed documents (nested ones too),
// plugins, settings and secrets. Nothing may be written through the links, nothing outside
// stateDir may end up the account's, and no temporary file may stay.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import {
  bootFleet,
  describeFleet,
  shellQuote,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { runCli } from './cli.js';

const STATE = '/var/lib/hermes';
const TARGET = '/etc/sudoers.d';
const STOP = '/run/stop-swap-loop';

/** As hermes: swap each name for a link to TARGET and back until STOP exists. */
const SWAP_LOOP = `
cd ${STATE} || exit 1
n=0
while [ ! -e ${STOP} ]; do
  for name in workspace .hermes notes; do
    if mv "$name" "$name.real" 2>/dev/null; then
      ln -s ${TARGET} "$name"
      sleep 0.0$((n % 8 + 1))
      rm -f "$name"
      mv "$name.real" "$name"
    fi
    sleep 0.0$(((n + 3) % 8 + 1))
    n=$((n + 1))
  done
done
`;

function inventoryFor(run: number): string {
  const inventory = writeFleetInventory(1, {
    all: {
      vars: {
        hermes: {
          healthCheck: { seconds: 0 },
          settings: { model: `model-${run}`, nested: { run } },
          environment: { RUN: String(run) },
          secrets: { API_KEY: { env: 'E2E_HOSTILE_SECRET' } },
          documents: {
            'SOUL.md': `soul ${run}\n`,
            'AGENTS.md': `agents ${run}\n`,
            '.hermes/memories/USER.md': `user ${run}\n`,
            'notes/deep/TODO.md': `todo ${run}\n`,
          },
          extraPlugins: ['plugins/lcm'],
        },
      },
    },
  });
  // A new plugin tree every third run: its link changes while the loop runs.
  const plugin = join(dirname(inventory), 'plugins/lcm');
  mkdirSync(plugin, { recursive: true });
  writeFileSync(join(plugin, 'plugin.yaml'), `name: lcm\nversion: ${Math.floor(run / 3)}\n`);
  writeFileSync(join(plugin, '__init__.py'), '');
  return inventory;
}

describeFleet('a hostile service account', () => {
  let fleet: Fleet;
  const env = (run: number) => ({ E2E_HOSTILE_SECRET: `secret-${run}` });

  beforeAll(async () => {
    fleet = await bootFleet(1);
    await fleet.reset(1);
  });

  it(
    'swapping workspace and .hermes for links to /etc/sudoers.d makes root write nothing through them',
    { timeout: 900_000 },
    async () => {
      const first = await runCli(['run', '-i', inventoryFor(0)], { env: env(0) });
      expect(first.code, first.all).toBe(0);
      const targetBefore = (await fleet.ssh(1, `ls -A ${TARGET}`)).stdout;

      await fleet.ssh(1, `rm -f ${STOP}`);
      await fleet.ssh(
        1,
        `setsid runuser -u hermes -- /bin/sh -c ${shellQuote(SWAP_LOOP)} </dev/null >/dev/null 2>&1 &`,
      );
      const codes: number[] = [];
      for (let run = 1; run <= 30; run++) {
        const result = await runCli(['run', '-i', inventoryFor(run)], { env: env(run) });
        codes.push(result.code);
        // A run may fail (it refuses a link), never crash.
        expect([0, 2], result.all).toContain(result.code);
      }
      await fleet.ssh(1, `touch ${STOP}; sleep 1`);
      // The loop leaves each name whole before it looks at STOP; put back any it left renamed.
      await fleet.ssh(
        1,
        `cd ${STATE} && for n in workspace .hermes notes; do if [ -e "$n.real" ]; then rm -f "$n"; mv "$n.real" "$n"; fi; done`,
      );

      expect((await fleet.ssh(1, `ls -A ${TARGET}`)).stdout).toBe(targetBefore);
      const owned = await fleet.ssh(
        1,
        `find / -xdev -user hermes ! -path '${STATE}' ! -path '${STATE}/*' ! -path '/tmp/*' ! -path '/var/tmp/*' -print`,
      );
      expect(owned.stdout).toBe('');
      // Most runs may fail while the loop runs; report how many got through, for the record.
      console.log(`hostile loop: ${codes.filter((c) => c === 0).length} of 30 runs converged`);

      // With the loop stopped, a run converges and the next one is a no-op.
      const settle = await runCli(['run', '-i', inventoryFor(31)], { env: env(31) });
      expect(settle.code, settle.all).toBe(0);
      // A run the loop broke may leave the copies it kept for a rollback (its account could not
      // remove them either); the next run removes them, as the account.
      const temps = await fleet.ssh(1, `find / -xdev -name '.hermes-fleet.*' -print`);
      expect(temps.stdout).toBe('');
      const noop = await runCli(['run', '-i', inventoryFor(31), '--detailed-exitcode'], {
        env: env(31),
      });
      expect(noop.code, noop.all).toBe(0);
      expect(await fleet.read(1, `${STATE}/workspace/SOUL.md`)).toBe('soul 31\n');
      const soul = await fleet.stat(1, `${STATE}/workspace/SOUL.md`);
      expect(soul).toMatchObject({ user: 'hermes', group: 'hermes', mode: 0o640 });
      expect(await fleet.read(1, `${STATE}/notes/deep/TODO.md`)).toBe('todo 31\n');
      const link = await fleet.ssh(1, `readlink ${STATE}/.hermes/plugins/fleet-managed-lcm`);
      expect(link.stdout).toMatch(/^\/usr\/local\/lib\/hermes-fleet\/plugins\/[0-9a-f]{16}\n$/);
    },
  );
});
