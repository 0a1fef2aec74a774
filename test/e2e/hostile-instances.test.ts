// Issue 27: two instances on one host, each with its own account. The account of instance two
// (it runs an AI agent with a terminal tool, so it may run anything) swaps its workspace and
// .hermes for links into instance one's tree and to /etc/sudoers.d, and back, every few tens of
// milliseconds, while runs deploy changed documents, settings and secrets to both (one first, so
// one's tree is written while two's links point into it). Root must write nothing through the
// links: nothing in one's tree may become two's or hold two's content, nothing outside two's
// tree may end up two's, and no temporary file may stay.
import { beforeAll, expect, it } from 'vitest';
import {
  bootFleet,
  describeFleet,
  shellQuote,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { runCli } from './cli.js';

/** The tree of instance two, whose account is hostile, and the tree of instance one. */
const HOSTILE = '/var/lib/hermes-two';
const VICTIM = '/var/lib/hermes-one';
const STOP = '/run/stop-swap-loop';
const RUNS = 12;

/** As the hostile account (two): each of its names swapped for a link (into two's tree, or /etc) and back. */
const SWAP_LOOP = `
cd ${HOSTILE} || exit 1
n=0
while [ ! -e ${STOP} ]; do
  for pair in workspace:${VICTIM}/workspace .hermes:${VICTIM}/.hermes workspace:/etc/sudoers.d; do
    name=\${pair%%:*}
    target=\${pair#*:}
    if mv "$name" "$name.real" 2>/dev/null; then
      ln -s "$target" "$name"
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
  const instance = (name: string) => ({
    user: name,
    group: name,
    healthCheck: { seconds: 0 },
    settings: { model: `${name}-model-${run}` },
    environment: { RUN: String(run) },
    secrets: { API_KEY: { env: `E2E_SECRET_${name.toUpperCase()}` } },
    documents: { 'SOUL.md': `${name} soul ${run}\n`, 'AGENTS.md': `${name} agents ${run}\n` },
  });
  return writeFleetInventory(1, {
    all: { vars: { instances: { one: instance('one'), two: instance('two') } } },
  });
}

describeFleet('two instances whose accounts differ, one of them hostile', () => {
  let fleet: Fleet;
  const env = (run: number) => ({
    E2E_SECRET_ONE: `one-secret-${run}`,
    E2E_SECRET_TWO: `two-secret-${run}`,
  });

  beforeAll(async () => {
    fleet = await bootFleet(1);
    await fleet.reset(1);
  });

  it(
    "the account of one instance swapping its names for links into the other's tree makes root write nothing through them",
    { timeout: 900_000 },
    async () => {
      const first = await runCli(['run', '-i', inventoryFor(0)], { env: env(0) });
      expect(first.code, first.all).toBe(0);
      const sudoersBefore = (await fleet.ssh(1, 'ls -A /etc/sudoers.d')).stdout;

      await fleet.ssh(1, `rm -f ${STOP}`);
      await fleet.ssh(
        1,
        `setsid runuser -u two -- /bin/sh -c ${shellQuote(SWAP_LOOP)} </dev/null >/dev/null 2>&1 &`,
      );
      const codes: number[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const result = await runCli(['run', '-i', inventoryFor(run)], { env: env(run) });
        codes.push(result.code);
        // A run may fail (it refuses a link), never crash.
        expect([0, 2], result.all).toContain(result.code);
      }
      await fleet.ssh(1, `touch ${STOP}; sleep 1`);
      await fleet.ssh(
        1,
        `cd ${HOSTILE} && for n in workspace .hermes; do if [ -e "$n.real" ]; then rm -f "$n"; mv "$n.real" "$n"; fi; done`,
      );
      console.log(
        `hostile instance loop: ${codes.filter((c) => c === 0).length} of ${RUNS} runs converged`,
      );

      expect((await fleet.ssh(1, 'ls -A /etc/sudoers.d')).stdout).toBe(sudoersBefore);
      // Nothing outside the hostile tree is its account's; nothing in the other tree is anyone's but one's.
      const ownedByOne = await fleet.ssh(
        1,
        `find / -xdev -user two ! -path '${HOSTILE}' ! -path '${HOSTILE}/*' ! -path '/tmp/*' ! -path '/var/tmp/*' -print`,
      );
      expect(ownedByOne.stdout).toBe('');
      const notOnes = await fleet.ssh(1, `find ${VICTIM} ! -user one -print`);
      expect(notOnes.stdout).toBe('');
      // None of the hostile instance's content reached the other's files.
      const leaked = await fleet.ssh(
        1,
        `grep -rlE 'two (soul|agents)|two-model' ${VICTIM}/workspace ${VICTIM}/.hermes/config.yaml || true`,
      );
      expect(leaked.stdout).toBe('');

      // With the loop stopped, a run converges both, and the next one is a no-op.
      const settle = await runCli(['run', '-i', inventoryFor(RUNS + 1)], { env: env(RUNS + 1) });
      expect(settle.code, settle.all).toBe(0);
      const temps = await fleet.ssh(1, `find / -xdev -name '.hermes-fleet.*' -print`);
      expect(temps.stdout).toBe('');
      const noop = await runCli(['run', '-i', inventoryFor(RUNS + 1), '--detailed-exitcode'], {
        env: env(RUNS + 1),
      });
      expect(noop.code, noop.all).toBe(0);
      expect(await fleet.read(1, `${VICTIM}/workspace/SOUL.md`)).toBe(`one soul ${RUNS + 1}\n`);
      expect(await fleet.stat(1, `${VICTIM}/workspace/SOUL.md`)).toMatchObject({
        user: 'one',
        group: 'one',
        mode: 0o640,
      });
      expect(await fleet.read(1, `${HOSTILE}/workspace/SOUL.md`)).toBe(`two soul ${RUNS + 1}\n`);
    },
  );
});
