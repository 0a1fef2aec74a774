// Issue: day-2 commands. Four Debian hosts with the gateway deployed, the real CLI over real SSH:
// `exec` with hostile arguments, as root and as the service account; `logs` from several hosts,
// followed until Ctrl-C; a rolling `restart` that stops at a host whose health check fails.
import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { CommandReport } from '../../src/report/command-json.js';
import type { JsonReport } from '../../src/report/json-schema.js';
import { bootFleet, describeFleet, writeFleetInventory, type Fleet } from '../fleet/fleet.js';
import { MANAGED_PATHS, runCli, snapshot, startCli } from './cli.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const HOSTS = 4;
const ALL = [1, 2, 3, 4];

// Words a shell, or an argument parser, could take for something else: spaces, expansions,
// separators, quotes, newlines, globs, numbers, options, an assignment, nothing at all.
const HOSTILE = [
  'two  words',
  '$(touch /tmp/pwned-day2)',
  '`touch /tmp/pwned-day2`',
  '; touch /tmp/pwned-day2 ;',
  "it's",
  '"double" \\"escaped\\"',
  'line\nbreak\n',
  '*',
  '~',
  '010',
  '0x10',
  '1e3',
  '-n',
  '--as',
  '--',
  '',
  'NAME=value',
  '%s %% $HOME ${HOME}',
  'größe ✓',
];
const HOSTILE_BYTES = HOSTILE.map((arg) => `${arg}\0`).join('');

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function commandReport(stdout: string): CommandReport {
  return JSON.parse(stdout) as CommandReport;
}

function runReport(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

/** The lines a host printed, prefix removed: `[host1] x` → `x`; stderr lines keep their `! `. */
function linesOf(stdout: string, host: string): string[] {
  const prefix = `[${host}] `;
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

describeFleet('day-2 commands on real hosts: exec, logs, restart', () => {
  let fleet: Fleet;
  /** Root logins, every host's gateway deployed and running. */
  let inventory: string;
  /** The same hosts, logged in as `deploy` with become: sudo (the default for a non-root user). */
  let asDeploy: string;
  const vars = { hermes: { healthCheck: { seconds: 1 } } };

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    inventory = writeFleetInventory(HOSTS, { all: { vars } });
    asDeploy = writeFleetInventory(HOSTS, { all: { vars: { ...vars, ssh: { user: 'deploy' } } } });
    const deployed = await runCli(['run', '-i', inventory]);
    expect(deployed.code, deployed.all).toBe(0);
  });

  // ------------------------------------------------------------------------------------------
  // exec

  it('exec: hostile arguments arrive byte for byte on every host, as root and through sudo', async () => {
    for (const inv of [inventory, asDeploy]) {
      const result = await runCli([
        'exec',
        '-i',
        inv,
        '--json',
        '--',
        'printf',
        '%s\\0',
        ...HOSTILE,
      ]);
      expect(result.code, result.all).toBe(0);
      const report = commandReport(result.stdout);
      expect(report.hosts.map((h) => h.host)).toEqual(ALL.map((i) => `host${i}`));
      for (const host of report.hosts) {
        expect(host.stdout, host.host).toBe(HOSTILE_BYTES);
        expect(host).toMatchObject({ status: 'ok', exitCode: 0, stderr: '' });
        // One connection, one command: the whole cost of an exec.
        expect(host.stats).toEqual({ roundTrips: 1, channels: 1, connections: 1 });
      }
    }
    // The human output: the bytes as the host wrote them, hashed on the host to keep them on one line.
    const hashed = await runCli([
      'exec',
      '-i',
      inventory,
      '--',
      'sh',
      '-c',
      'printf "%s\\0" "$@" | sha256sum',
      'sh',
      ...HOSTILE,
    ]);
    expect(hashed.code, hashed.all).toBe(0);
    for (const i of ALL)
      expect(linesOf(hashed.stdout, `host${i}`)).toEqual([`${sha256(HOSTILE_BYTES)}  -`]);
    for (const i of ALL) {
      const pwned = await fleet.ssh(i, 'ls /tmp/pwned-day2 2>/dev/null | wc -l');
      expect(pwned.stdout.trim(), `host${i}`).toBe('0');
    }
  });

  it('exec --as service: runs as hermes in workingDirectory, with HERMES_HOME and the package on PATH', async () => {
    const probe = 'id -un; pwd; printf "%s\\n" "$HERMES_HOME" "$HERMES_MANAGED"; hermes --version';
    for (const inv of [inventory, asDeploy]) {
      const result = await runCli(['exec', '-i', inv, '--as', 'service', '--', 'sh', '-c', probe]);
      expect(result.code, result.all).toBe(0);
      for (const i of ALL) {
        expect(linesOf(result.stdout, `host${i}`)).toEqual([
          'hermes',
          '/var/lib/hermes/workspace',
          '/var/lib/hermes/.hermes',
          'true',
          'hermes-agent 0.0.0-standin',
        ]);
      }
    }
    // Through sudo, --as root is root.
    const root = await runCli(['exec', '-i', asDeploy, '-l', 'host1', '--', 'id', '-un']);
    expect(linesOf(root.stdout, 'host1')).toEqual(['root']);
  });

  it("exec: a failing host exits 2, every host's output is complete, the recap has each exit status", async () => {
    const script =
      'seq 1 500; echo "to stderr" >&2; seq 501 1000; [ "$(hostname)" != host2 ] || exit 3';
    const result = await runCli(['exec', '-i', inventory, '--', 'sh', '-c', script]);
    expect(result.code, result.all).toBe(2);
    const numbers = Array.from({ length: 1000 }, (_, k) => String(k + 1));
    for (const i of ALL) {
      const lines = linesOf(result.stdout, `host${i}`);
      expect(
        lines.filter((l) => !l.startsWith('! ')),
        `host${i}`,
      ).toEqual(numbers);
      expect(lines.filter((l) => l.startsWith('! '))).toEqual(['! to stderr']);
    }
    const recap = result.stdout.slice(result.stdout.indexOf('EXEC RECAP'));
    expect(recap).toMatch(/^host1 +: exit=0 +ok \(\d+\.\d\ds\)$/m);
    expect(recap).toMatch(/^host2 +: exit=3 +failed \(\d+\.\d\ds\)$/m);
    expect(recap).toMatch(/^host3 +: exit=0 +ok/m);
    expect(recap).toMatch(/^host4 +: exit=0 +ok/m);

    // --group: each host's lines in one block.
    const grouped = await runCli([
      'exec',
      '-i',
      inventory,
      '--group',
      '--',
      'sh',
      '-c',
      'echo a; sleep 0.2; echo b',
    ]);
    expect(grouped.code, grouped.all).toBe(0);
    for (const i of ALL) expect(grouped.stdout).toContain(`[host${i}] a\n[host${i}] b\n`);

    // --json: per host stdout, stderr, exit code, duration.
    const json = await runCli([
      'exec',
      '-i',
      inventory,
      '-l',
      'host2',
      '--json',
      '--',
      'sh',
      '-c',
      script,
    ]);
    expect(json.code).toBe(2);
    const [host2] = commandReport(json.stdout).hosts;
    expect(host2).toMatchObject({
      host: 'host2',
      status: 'failed',
      exitCode: 3,
      stderr: 'to stderr\n',
    });
    expect(host2?.stdout).toBe(`${numbers.join('\n')}\n`);
    expect(host2?.durationMs).toBeGreaterThan(0);
  });

  it('exec: no command is exit 1 with the usage line; --shard splits the hosts as run does', async () => {
    const none = await runCli(['exec', '-i', inventory]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'usage: hermes-fleet exec -i FILE [-l PATTERN] [--as root|service] [--group] -- CMD [ARG...]',
    );
    expect(none.stdout).toBe('');
    const shards = await Promise.all(
      ['1/2', '2/2'].map((s) =>
        runCli(['exec', '-i', inventory, '--shard', s, '--json', '--', 'hostname']),
      ),
    );
    const names = shards.flatMap((r) => commandReport(r.stdout).hosts.map((h) => h.stdout.trim()));
    expect(names.sort()).toEqual(ALL.map((i) => `host${i}`));
  });

  // ------------------------------------------------------------------------------------------
  // logs

  it("logs: two hosts' journals, -n lines each, prefixed; -n 0 and -n -5 refused", async () => {
    const result = await runCli(['logs', '-i', inventory, '-l', 'host1,host3', '-n', '2']);
    expect(result.code, result.all).toBe(0);
    for (const host of ['host1', 'host3']) {
      const lines = linesOf(result.stdout, host);
      expect(lines, host).toHaveLength(2);
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^\\S+ ${host} hermes\\[\\d+\\]: hermes gateway \\(stand-in\\) running as hermes`,
        ),
      );
    }
    expect(linesOf(result.stdout, 'host2')).toEqual([]);
    expect(result.stderr).toBe('');

    const json = await runCli(['logs', '-i', inventory, '-l', 'host1,host3', '-n', '1', '--json']);
    const report = commandReport(json.stdout);
    expect(report.hosts.map((h) => [h.host, h.status, h.stdout.split('\n').length])).toEqual([
      ['host1', 'ok', 2],
      ['host3', 'ok', 2],
    ]);

    for (const n of ['0', '-5']) {
      const refused = await runCli(['logs', '-i', inventory, '-n', n]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(`error: -n ${n}: must be a whole number of lines, at least 1\n`);
    }
  });

  it('logs: a journal the login may not read fails its host with journalctl’s message', async () => {
    const noBecome = writeFleetInventory(HOSTS, {
      all: { vars: { ssh: { user: 'deploy', become: 'none' } } },
    });
    const result = await runCli(['logs', '-i', noBecome, '-l', 'host1,host2']);
    expect(result.code, result.all).toBe(2);
    for (const host of ['host1', 'host2']) {
      expect(result.stderr).toContain(
        `[${host}] failed: exit 1: No journal files were opened due to insufficient permissions.`,
      );
    }
  });

  it('logs -f: follows two hosts, sees a line written after it started, says when a host drops out, ends on SIGINT with 130 and no error', async () => {
    const follow = startCli(['logs', '-i', inventory, '-l', 'host1,host2', '-n', '1', '-f']);
    await follow.waitFor(
      /\[host1\] .*running as hermes[^\n]*\n[^]*\[host2\] |\[host2\] .*running as hermes[^\n]*\n[^]*\[host1\] /,
    );
    // Written to the unit's journal after the follow started: the restart's own lines.
    await fleet.ssh(2, `systemctl restart ${UNIT}`);
    await follow.waitFor(/\[host2\] \S+ host2 systemd\[1\]: Stopping hermes-agent\.service/);
    await follow.waitFor(/\[host2\] \S+ host2 hermes\[\d+\]: hermes gateway \(stand-in\) running/);
    // host1's journalctl dies: the follow says so and goes on with host2.
    await fleet.ssh(1, 'pkill -x journalctl');
    await follow.waitFor(/\[host1\] dropped out: killed by SIGTERM\n/);
    await fleet.ssh(2, `systemctl restart ${UNIT}`);
    await follow.waitFor(
      /(\[host2\] \S+ host2 systemd\[1\]: Stopping hermes-agent\.service[^]*){2}/,
    );

    process.kill(follow.pid, 'SIGINT');
    const result = await follow.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toBe('[host1] dropped out: killed by SIGTERM\n');
    for (const i of [1, 2]) {
      const left = await fleet.ssh(i, 'pgrep -x journalctl || true');
      expect(left.stdout.trim(), `host${i}`).toBe('');
    }
  });

  it('logs -f through sudo: Ctrl-C reaches journalctl on the host as an SSH signal', async () => {
    const follow = startCli(['logs', '-i', asDeploy, '-l', 'host3,host4', '-n', '1', '-f']);
    await follow.waitFor(
      /\[host3\] .*running as hermes[^]*\[host4\] |\[host4\] .*running as hermes[^]*\[host3\] /,
    );
    const interrupted = Date.now();
    process.kill(follow.pid, 'SIGINT');
    const result = await follow.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toBe('');
    // Well before the 2 s after which a follow whose host ignores the signal is cut off.
    expect(Date.now() - interrupted).toBeLessThan(1800);
    for (const i of [3, 4]) {
      const left = await fleet.ssh(i, 'pgrep -x journalctl || true');
      expect(left.stdout.trim(), `host${i}`).toBe('');
    }
  });

  // ------------------------------------------------------------------------------------------
  // restart

  /**
   * Every managed path as a snapshot (inode, mode, owner, content; a file's mtime too). A
   * directory's mtime is left out: the gateway itself writes its record into HERMES_HOME when
   * it starts.
   */
  async function files(i: number): Promise<unknown> {
    return (await snapshot(fleet, i, MANAGED_PATHS)).map((entry) =>
      entry.sha256 === 'dir' ? { ...entry, mtime: undefined } : entry,
    );
  }

  it('restart --serial 1: host1 restarts healthy, host2 fails its health check, hosts 3-4 are not started; no file changes', async () => {
    const broken = writeFleetInventory(HOSTS, {
      all: { vars, hosts: { host2: { hermes: { healthCheck: { command: 'exit 1' } } } } },
    });
    // A restart an earlier run owed: the restart that passes its health check pays it.
    await fleet.ssh(
      1,
      'echo "hermes-agent.service must restart (hermes-fleet)" > /run/hermes-fleet-restart-pending',
    );
    const before = new Map<number, { pid: number | undefined; files: unknown }>();
    for (const i of ALL) {
      before.set(i, {
        pid: (await fleet.standinRecord(i))?.pid,
        files: await files(i),
      });
    }

    const result = await runCli(['restart', '-i', broken, '--serial', '1', '--json']);
    expect(result.code, result.all).toBe(2);
    const report = runReport(result.stdout);
    expect(Object.fromEntries(report.hosts.map((h) => [h.host, h.status]))).toEqual({
      host1: 'changed',
      host2: 'failed',
      host3: 'skipped',
      host4: 'skipped',
    });
    const host2 = report.hosts.find((h) => h.host === 'host2');
    expect(host2?.failedTask).toBe('restart');
    expect(host2?.message).toMatch(
      /^health check command failed as hermes \(exit 1\)\n--- last log lines ---\n/,
    );
    for (const host of ['host3', 'host4']) {
      expect(report.hosts.find((h) => h.host === host)?.message).toBe(
        'not started: the rollout stopped after 1 of 2 hosts failed',
      );
    }
    // The restart is the apply alone: one round trip per host, no read.
    for (const host of ['host1', 'host2']) {
      expect(report.hosts.find((h) => h.host === host)?.stats.roundTrips, host).toBe(1);
    }

    for (const i of ALL) {
      const record = await fleet.standinRecord(i);
      if (i <= 2) expect(record?.pid, `host${i} restarted`).not.toBe(before.get(i)?.pid);
      else expect(record?.pid, `host${i} untouched`).toBe(before.get(i)?.pid);
      expect(await files(i), `host${i}`).toEqual(before.get(i)?.files);
      expect(await fleet.unit(i, UNIT), `host${i}`).toMatchObject({ active: 'active' });
    }
    expect(await fleet.stat(1, '/run/hermes-fleet-restart-pending')).toBeNull();

    // The human output: live lines per host and the PLAY RECAP, as run's.
    const plain = await runCli(['restart', '-i', inventory, '-l', 'host3']);
    expect(plain.code, plain.all).toBe(0);
    expect(plain.stdout).toMatch(/^\[host3\] restart: changed \(\d+\.\d\ds\)$/m);
    expect(plain.stdout).toMatch(/^host3 +: ok=1 +changed=1 +unreachable=0 +failed=0 +skipped=0$/m);
  });

  it("logs in container mode: the container's own log, through its runtime", async () => {
    await fleet.importImage(4, 'ubuntu:24.04');
    const container = writeFleetInventory(HOSTS, {
      all: {
        vars,
        hosts: {
          host4: {
            hermes: { container: { enable: true, backend: 'podman', image: 'ubuntu:24.04' } },
          },
        },
      },
    });
    const deployed = await runCli(['run', '-i', container, '-l', 'host4']);
    expect(deployed.code, deployed.all).toBe(0);
    const result = await runCli(['logs', '-i', container, '-l', 'host1,host4', '-n', '3']);
    expect(result.code, result.all).toBe(0);
    // The container's stdout, as podman logs prints it: no journal prefix, HERMES_HOME inside.
    expect(linesOf(result.stdout, 'host4')).toContainEqual(
      expect.stringMatching(
        /^hermes gateway \(stand-in\) running as \S+, HERMES_HOME=\/data\/\.hermes$/,
      ),
    );
    expect(linesOf(result.stdout, 'host1').at(-1)).toMatch(/ host1 hermes\[\d+\]: hermes gateway/);
  });
});
