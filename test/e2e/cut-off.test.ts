// Issue 18: a run cut off mid-apply never leaves a host mixed. The controller is killed with
// SIGKILL at several points of a converge of three hosts; within 60 s every host is either fully
// on the new state (files, unit, and the gateway restarted onto them and healthy) or fully on
// the old one, and the next run says how the cut-off batch ended.
import { beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { runAndKill, runCli } from './cli.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const HOSTS = 3;
const HOME = '/var/lib/hermes/.hermes';

describeFleet('a run cut off mid-apply (SIGKILL) on real hosts', () => {
  let fleet: Fleet;
  const base = {
    settings: { model: 'm', step: 0 },
    environment: { STEP: '0' },
    documents: { 'SOUL.md': 'step 0\n' },
    // A long health wait, so a kill can land in it.
    healthCheck: { seconds: 3 },
  };
  const inventory = (step: number) =>
    writeFleetInventory(HOSTS, {
      all: {
        vars: {
          hermes: {
            ...base,
            settings: { model: 'm', step },
            environment: { STEP: String(step) },
            documents: { 'SOUL.md': `step ${step}\n` },
          },
        },
      },
    });

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    const first = await runCli(['run', '-i', inventory(0)]);
    expect(first.code, first.all).toBe(0);
  });

  /** Each host is wholly on `old` or wholly on `next`: files, and what the gateway read. */
  async function expectConsistent(old: number, next: number): Promise<number[]> {
    const steps: number[] = [];
    for (let i = 1; i <= HOSTS; i++) {
      const deadline = Date.now() + 60_000;
      let step = -1;
      for (;;) {
        const unit = await fleet.unit(i, UNIT);
        const config = (await fleet.read(i, `${HOME}/config.yaml`)) ?? '';
        const env = (await fleet.read(i, `${HOME}/.env`)) ?? '';
        const soul = (await fleet.read(i, '/var/lib/hermes/workspace/SOUL.md')) ?? '';
        const record = await fleet.standinRecord(i);
        // A batch still going on by itself has a result without its last line yet.
        const busy = await fleet.ssh(
          i,
          'f=/var/lib/hermes-fleet/apply/result; if [ -f $f ] && ! tail -n 1 $f | grep -qE "^(end|interrupted|[0-9]+\tfail\t.*)$"; then echo busy; fi',
        );
        const fileStep = /step: (\d+)/.exec(config)?.[1];
        const same =
          unit.active === 'active' &&
          busy.stdout.trim() === '' &&
          /STEP='?(\d+)'?/.exec(env)?.[1] === fileStep &&
          soul === `step ${fileStep}\n` &&
          (record?.config as { step?: number } | undefined)?.step === Number(fileStep);
        if (same) {
          step = Number(fileStep);
          break;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `host${i} not consistent 60 s after the kill: unit ${unit.active}, config ${config.trim()}, .env ${env.trim()}, SOUL ${soul.trim()}, gateway read step ${String((record?.config as { step?: number } | undefined)?.step)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect([old, next], `host${i}`).toContain(step);
      steps.push(step);
    }
    // Which state each host ended on, for the record of what was measured.
    console.log(`hosts on steps ${steps.join(', ')} (old ${old}, new ${next})`);
    return steps;
  }

  // [name, when to kill, delay after that]: the plain output says when a task is done.
  const points: [string, (out: string) => boolean, number][] = [
    ['before the first write (still connecting)', () => true, 150],
    ['between writes (merge done, docs not yet)', (out) => /merge: changed/.test(out), 0],
    ['during the restart (docs done)', (out) => /docs: changed/.test(out), 0],
    ['during the health wait (3 s)', (out) => /docs: changed/.test(out), 1500],
  ];

  points.forEach(([name, when, delayMs], n) => {
    it(`killed ${name}: every host wholly old or wholly new, and the next run says so`, async () => {
      const old = n;
      const next = n + 1;
      await runAndKill(['run', '-i', inventory(next)], when, delayMs);
      const steps = await expectConsistent(old, next);
      // A run after it converges whatever is left; a host whose batch went on without its
      // controller says how it ended.
      const after = await runCli(['run', '-i', inventory(next), '--json']);
      expect(after.code, after.all).toBe(0);
      const report = JSON.parse(after.stdout) as JsonReport;
      const told = report.hosts.filter((h) => h.cutOff !== undefined);
      for (const host of told) {
        expect(host.cutOff).toMatch(/went on by itself and finished: every change applied/);
      }
      if (n > 0) expect(told.length, 'hosts that report the cut-off batch').toBeGreaterThan(0);
      if (n === 0) expect(steps).toEqual([old, old, old]);
      await expectConsistent(next, next);
    });
  });
});
