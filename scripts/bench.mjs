#!/usr/bin/env node
// `npm run bench`: times hermes-fleet against the real test fleet at 10, 50 and 100 hosts and
// prints a markdown table: converge, no-op and check medians; the floor (OpenSSH `ssh HOST true`
// to every host at once, measured in the same run); SSH round trips and channels per host
// (counted by the transport); and the CLI's peak memory. Timing lives here, never in tests.
//
//   npm run bench                 # 10, 50, 100 hosts, 5 runs each
//   npm run bench -- 10 50 --runs 3
//   npm run bench -- --release 10  # shipping a 64 MB release instead (see releaseBench)
//   npm run bench -- --release --url 10  # and the same release downloaded by the hosts
//   npm run bench -- --release --booted 100  # on the fleet `fleet.sh up 100` left up
//   npm run bench -- --booted 100  # the same for the no-op rows
//   npm run bench -- --ansible-load   # loading 10,000 hosts from an INI inventory (no fleet)
//   npm run bench -- --html 100    # the HTML report's page: its size and render time (htmlBench)
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { clearInterval, setInterval } from 'node:timers';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'hermes-fleet');
const cache = '/var/cache/hermes-fleet-test/ssh';
// FLEET_NET=K benches a fleet on 127.0.K.I (test/fleet/fleet.sh), beside other fleets.
const net = Number(process.env.FLEET_NET ?? '1');
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const sizes = args.filter((a, i) => /^\d+$/.test(a) && i !== runsAt + 1).map(Number);
const sizesGiven = sizes.length > 0;
if (sizes.length === 0) sizes.push(10, 50, 100);
const releaseMode = args.includes('--release');
const urlMode = args.includes('--url');
// The fleet as `fleet.sh up N` left it (when a fresh boot of 100 hosts times out on a loaded
// machine, `fleet.sh up N` again brings up the rest).
const booted = args.includes('--booted');
const ansibleLoadMode = args.includes('--ansible-load');
const htmlMode = args.includes('--html');

/** What /proc/PID/io says the process wrote so far (wchar: sockets, pipes and files), or NaN. */
function written(pid) {
  try {
    return Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The process's peak resident size so far (VmHWM), in MB, or NaN. */
function peakOf(pid) {
  try {
    const kB = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kB === undefined ? NaN : Number(kB) / 1024;
  } catch {
    return NaN;
  }
}

function run(command, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    // The bytes the process wrote and its peak memory, sampled until it exits (its /proc entry
    // goes with it). VmHWM, not getrusage's maxRSS: Linux carries the forked copy of this
    // (bench) process's own resident size into the child's maxRSS across exec.
    let wrote = NaN;
    let hwmMB = NaN;
    const sample = setInterval(() => {
      const now = written(child.pid);
      if (!Number.isNaN(now)) wrote = now;
      const hwm = peakOf(child.pid);
      if (!Number.isNaN(hwm)) hwmMB = hwm;
    }, 20);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ code, stdout, stderr, ms, wrote, hwmMB });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

function inventory(n, model, extraHermes = []) {
  const hosts = Array.from(
    { length: n },
    (_, i) => `    host${i + 1}: { ssh: { host: 127.0.${net}.${i + 1} } }`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-bench-'));
  const file = join(dir, 'hosts.yaml');
  writeFileSync(
    file,
    [
      'all:',
      '  vars:',
      `    ssh: { user: root, identityFile: ${cache}/id_ed25519, knownHosts: ${cache}/known_hosts }`,
      '    hermes:',
      `      settings: { model: ${model}, toolsets: [all], compression: { enabled: true } }`,
      '      environment: { HERMES_LOG_LEVEL: info }',
      "      secrets: { OPENROUTER_API_KEY: { command: 'echo bench-not-a-key' } }",
      "      documents: { SOUL.md: 'You are a benchmark.', USER.md: 'Nobody.' }",
      '      healthCheck: { seconds: 1 }',
      ...extraHermes.map((line) => `      ${line}`),
      '  hosts:',
      ...hosts,
      '',
    ].join('\n'),
  );
  return file;
}

/** One CLI run: wall time, the transport's counters and peak memory from `-vv --json`. */
async function cli(file, extra = []) {
  const r = await run(process.execPath, [bin, 'run', '-i', file, '--json', '-vv', ...extra]);
  const report = JSON.parse(r.stdout);
  const stats = /stats: .*peakRssMB=(\d+(?:\.\d+)?)/.exec(r.stderr);
  const hosts = report.hosts;
  const bad = hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
  if (bad.length > 0)
    throw new Error(`${bad.length} hosts failed: ${bad[0].host}: ${bad[0].message}`);
  const per = (key) => Math.max(...hosts.map((h) => h.stats[key]));
  return {
    ms: r.ms,
    roundTrips: per('roundTrips'),
    channels: per('channels'),
    connections: per('connections'),
    rssMB: Number.isNaN(r.hwmMB) ? (stats ? Number(stats[1]) : NaN) : Number(r.hwmMB.toFixed(1)),
    wroteMB: r.wrote / 2 ** 20,
  };
}

/** The harness key and known hosts, never a prompt: for OpenSSH's own ssh and scp. */
const SSH_OPTIONS = [
  '-i',
  `${cache}/id_ed25519`,
  '-o',
  `UserKnownHostsFile=${cache}/known_hosts`,
  '-o',
  'BatchMode=yes',
];

async function floor(n) {
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      run('ssh', [
        ...SSH_OPTIONS,
        '-o',
        'ControlMaster=no',
        '-o',
        'ControlPath=none',
        `root@127.0.${net}.${i + 1}`,
        'true',
      ]),
    ),
  );
  if (results.some((r) => r.code !== 0)) throw new Error('ssh true failed on some host');
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function startup() {
  const times = [];
  for (let i = 0; i < runs; i++) times.push((await run(process.execPath, [bin, '--version'])).ms);
  return median(times);
}

/**
 * A 64 MB release (incompressible bytes, plain tar so neither side spends the time on a
 * compressor): bin/hermes runs the fleet's stand-in gateway from the release itself.
 */
function buildRelease(dir, name) {
  const top = join(dir, name);
  mkdirSync(join(top, 'bin'), { recursive: true });
  writeFileSync(join(top, 'bin', 'hermes'), '#!/bin/sh\nexec /opt/hermes/bin/hermes "$@"\n', {
    mode: 0o755,
  });
  writeFileSync(join(top, 'payload.bin'), randomBytes(64 * 1024 * 1024 - 4096));
  const file = join(dir, `${name}.tar`);
  return run('tar', ['-cf', file, '-C', dir, name]).then((r) => {
    if (r.code !== 0) throw new Error(`tar failed: ${r.stderr}`);
    return file;
  });
}

async function scpAll(n, file) {
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      run('scp', [
        '-q',
        ...SSH_OPTIONS,
        file,
        `root@127.0.${net}.${i + 1}:/var/tmp/bench-release.tar`,
      ]),
    ),
  );
  if (results.some((r) => r.code !== 0)) throw new Error('scp failed on some host');
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Serves files of this machine over HTTP on 127.0.0.1 (the test hosts share its network): the
 * release a `--url` round's hosts download themselves.
 */
async function serveFiles() {
  const files = new Map();
  const server = createServer((request, response) => {
    const file = files.get(request.url);
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': String(statSync(file).size) });
    createReadStream(file).pipe(response);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url(file) {
      const path = `/${files.size}/${file.slice(file.lastIndexOf('/') + 1)}`;
      files.set(path, file);
      return `http://127.0.0.1:${port}${path}`;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * The test image has no curl or wget: this machine's wget (the same Debian release) and the
 * libraries the image lacks, copied to each host, as the e2e tests do (test/e2e/fetchers.ts).
 */
async function installWget(n) {
  const ldd = execFileSync('ldd', ['/usr/bin/wget'], { encoding: 'utf8' });
  const files = ['/usr/bin/wget', ...[...ldd.matchAll(/=> (\/\S+)/g)].map((m) => m[1])];
  const blobs = files.map((f) => [f, readFileSync(f).toString('base64')]);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      for (const [file, blob] of blobs) {
        const host = `root@127.0.${net}.${i + 1}`;
        const cmd = `test -e '${file}' && [ '${file}' != /usr/bin/wget ] || { base64 -d > '${file}' && chmod 0755 '${file}'; }`;
        const child = spawn('ssh', [...SSH_OPTIONS, host, cmd], {
          stdio: ['pipe', 'ignore', 'inherit'],
        });
        // A library the host has already: ssh exits without reading it.
        child.stdin.on('error', () => undefined);
        child.stdin.end(blob);
        const code = await new Promise((resolve) => child.on('close', resolve));
        if (code !== 0) throw new Error(`copying ${file} to ${host} failed`);
      }
    }),
  );
}

/**
 * Releases (issue #14's targets): an upgrade run that ships a new 64 MB release to every host
 * (upload, unpack, switch, restart, health check) against the parts it cannot avoid, measured
 * in the same round: parallel `scp` of the same file to the same hosts plus a run that changes
 * one setting (one restart and health check). Also the no-op with a release set, and the
 * CLI's peak memory while it ships.
 */
async function releaseBench() {
  const out = [];
  for (const n of sizes) {
    console.error(`\n== ${n} hosts, 64 MB releases: booting a ${booted ? '' : 'fresh '}fleet`);
    const upArgs = ['up', String(n), ...(booted ? [] : ['--fresh'])];
    const up = await run('bash', [join(root, 'test/fleet/fleet.sh'), ...upArgs], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (up.code !== 0) throw new Error(`fleet up ${n} failed`);
    const dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-bench-release-'));
    const releaseLines = (file) => [`release: { archive: ${file}, keep: 0 }`];
    let current = releaseLines(await buildRelease(dir, 'r0'));
    const first = await cli(inventory(n, 'bench/model-0', current));
    console.error(`first install ${secs(first.ms)}`);
    const server = urlMode ? await serveFiles() : undefined;
    if (server) await installWget(n);
    const ship = [];
    const baseline = [];
    const noop = [];
    const byUrl = [];
    for (let i = 1; i <= runs; i++) {
      const next = await buildRelease(dir, `r${i}`);
      const scp = await scpAll(n, next);
      const config = await cli(inventory(n, `bench/model-${i}`, current));
      const shipped = await cli(inventory(n, `bench/model-${i}`, releaseLines(next)));
      current = releaseLines(next);
      const still = await cli(inventory(n, `bench/model-${i}`, current));
      baseline.push(scp + config.ms);
      ship.push(shipped);
      noop.push(still);
      let fetched = '';
      if (server) {
        // The same size of release, downloaded by every host from this machine's HTTP server.
        const file = await buildRelease(dir, `u${i}`);
        const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
        current = [`release: { url: '${server.url(file)}', sha256: ${sha}, keep: 0 }`];
        const got = await cli(inventory(n, `bench/model-${i}`, current));
        byUrl.push(got);
        fetched = `, by url ${secs(got.ms)} (the CLI wrote ${got.wroteMB.toFixed(2)} MB, peak ${got.rssMB} MB; the push wrote ${shipped.wroteMB.toFixed(0)} MB)`;
      }
      console.error(
        `run ${i}: release ${secs(shipped.ms)}, scp ${secs(scp)} + config change ${secs(config.ms)}, no-op ${secs(still.ms)}, peak ${shipped.rssMB} MB${fetched}`,
      );
    }
    await server?.close();
    const m = (xs) => median(xs.map((x) => x.ms));
    out.push({
      n,
      ship: m(ship),
      baseline: median(baseline),
      noop: m(noop),
      rtNoop: noop[0].roundTrips,
      rss: Math.max(...ship.map((x) => x.rssMB)),
      ...(server
        ? {
            url: m(byUrl),
            urlWrote: Math.max(...byUrl.map((x) => x.wroteMB)),
            urlRss: Math.max(...byUrl.map((x) => x.rssMB)),
          }
        : {}),
    });
  }
  await run('bash', [join(root, 'test/fleet/fleet.sh'), 'down']);
  const date = new Date().toISOString().slice(0, 10);
  console.log(
    [
      `Measured ${date} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; medians of ${runs} runs; a 64 MB release (plain tar).`,
      '',
      `| hosts | ship a release | \`scp\` ×N + config change | ratio | no-op with a release | round trips (no-op) | peak memory |${urlMode ? ' by url (hosts download) | CLI wrote (by url) | peak memory (by url) |' : ''}`,
      `| ---: | ---: | ---: | ---: | ---: | :---: | ---: |${urlMode ? ' ---: | ---: | ---: |' : ''}`,
      ...out.map(
        (r) =>
          `| ${r.n} | ${secs(r.ship)} | ${secs(r.baseline)} | ${(r.ship / r.baseline).toFixed(2)}× | ${secs(r.noop)} | ${r.rtNoop} | ${r.rss.toFixed(0)} MB |${r.url === undefined ? '' : ` ${secs(r.url)} | ${r.urlWrote.toFixed(2)} MB | ${r.urlRss.toFixed(0)} MB |`}`,
      ),
    ].join('\n'),
  );
}

/**
 * Loading an Ansible inventory, no hosts contacted: 10,000 hosts in an INI file (ranges and one
 * line per host with inline variables, 20 groups under two parents) with group_vars/ (a file per
 * group, a directory for `all`) and host_vars/ for 100 of them. Times `hermes-fleet inventory
 * --host host00001` (the CLI start-up, the whole load, one host printed) against the CLI's
 * `--version`, so the load's own share shows; the goal is under 1 s.
 */
async function ansibleLoadBench() {
  const n = 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-bench-ansible-'));
  const lines = [];
  for (let g = 0; g < 20; g++) {
    lines.push(`[g${g}]`);
    for (let i = g * (n / 20) + 1; i <= (g + 1) * (n / 20); i++) {
      const name = `host${String(i).padStart(5, '0')}`;
      lines.push(
        `${name} ansible_host=10.${Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256} rack=r${i % 40}`,
      );
    }
  }
  lines.push('[even:children]', ...Array.from({ length: 10 }, (_, g) => `g${g * 2}`));
  lines.push('[odd:children]', ...Array.from({ length: 10 }, (_, g) => `g${g * 2 + 1}`));
  lines.push('[all:vars]', 'ansible_user=deploy', 'ansible_become=true');
  writeFileSync(join(dir, 'hosts.ini'), `${lines.join('\n')}\n`);
  mkdirSync(join(dir, 'group_vars', 'all'), { recursive: true });
  writeFileSync(
    join(dir, 'group_vars', 'all', 'hermes.yml'),
    'hermes:\n  settings: { model: bench/model, toolsets: [all] }\n  environment: { HERMES_LOG_LEVEL: info }\n  healthCheck: { seconds: 1 }\n',
  );
  for (let g = 0; g < 20; g++)
    writeFileSync(join(dir, 'group_vars', `g${g}.yml`), `group_index: ${g}\n`);
  mkdirSync(join(dir, 'host_vars'));
  for (let i = 1; i <= 100; i++) {
    writeFileSync(
      join(dir, 'host_vars', `host${String(i).padStart(5, '0')}.yml`),
      `special: ${i}\n`,
    );
  }
  const file = join(dir, 'hosts.ini');
  const loads = [];
  const cpu = [];
  // CPU time (user + sys, from GNU time when installed) next to wall time: on a machine shared
  // with other work the wall time measures the neighbours as well.
  const timed = existsSync('/usr/bin/time');
  for (let i = 0; i < runs; i++) {
    const argv = [process.execPath, bin, 'inventory', '-i', file, '--host', 'host00001'];
    const r = timed
      ? await run('/usr/bin/time', ['-f', 'cpu %U %S', ...argv])
      : await run(argv[0], argv.slice(1));
    if (r.code !== 0) throw new Error(`hermes-fleet inventory failed:\n${r.stderr}`);
    loads.push(r.ms);
    const used = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
    if (used) cpu.push((Number(used[1]) + Number(used[2])) * 1000);
  }
  const startupMs = await startup();
  const load = median(loads);
  const cpuText = cpu.length > 0 ? secs(median(cpu)) : 'n/a';
  console.log(
    [
      `## Loading an Ansible INI inventory (${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs)`,
      '',
      `| hosts | \`inventory --host\` wall (median of ${runs}) | its CPU time | CLI start-up (\`--version\`) | wall minus start-up | goal: wall < 1 s |`,
      '| --- | --- | --- | --- | --- | --- |',
      `| ${n} | ${secs(load)} | ${cpuText} | ${secs(startupMs)} | ${secs(load - startupMs)} | ${load < 1000 ? 'met' : 'NOT met'} |`,
      '',
      `Load average while measuring: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(', ')}.`,
    ].join('\n'),
  );
}

if (releaseMode) {
  await releaseBench();
  process.exit(0);
}
/**
 * One run's `--log` lines for `n` hosts, as a first deploy with --diff writes them (the largest
 * page a run makes): most hosts changed (every task, a 40-line config diff, two documents),
 * some in sync, a few rolled back with the unit's journal, a few unreachable. Made here rather
 * than by a 100-host run: the page's cost depends on what it shows, not on how it was run.
 */
function syntheticLog(n) {
  const time = new Date().toISOString();
  const run = {
    command: 'run',
    exitCode: 2,
    durationMs: 14_000,
    interrupted: false,
    who: 'ci@runner',
    inventory: [{ file: 'hosts.yaml', sha256: 'a'.repeat(64) }],
  };
  const config = (i) =>
    ['--- config.yaml', '+++ config.yaml', '@@ -1,20 +1,20 @@'].concat(
      Array.from({ length: 20 }, (_, k) => `-key${k}: old-value-${k}`),
      Array.from({ length: 20 }, (_, k) => `+key${k}: new-value-${k}-host${i}`),
    );
  const lines = [];
  for (let i = 1; i <= n; i++) {
    const host = `web-${String(i).padStart(3, '0')}`;
    const kind =
      i % 33 === 0 ? 'unreachable' : i % 20 === 0 ? 'failed' : i % 8 === 0 ? 'ok' : 'changed';
    const at = (i * 37) % 400;
    if (kind === 'unreachable') {
      lines.push({
        time,
        mode: 'run',
        host,
        task: null,
        status: 'unreachable',
        durationMs: 3000,
        message: `connect ETIMEDOUT 10.0.${i}.1:22`,
        timeline: [{ phase: 'connect', startMs: at, endMs: at + 3000 }],
        run,
      });
      continue;
    }
    const timeline = [
      { phase: 'connect', startMs: at, endMs: at + 120 },
      { phase: 'read', startMs: at + 120, endMs: at + 520 },
    ];
    if (kind !== 'ok') {
      timeline.push(
        { phase: 'apply', startMs: at + 520, endMs: at + 2400 },
        { phase: 'restart', startMs: at + 2400, endMs: at + 2600 },
        { phase: 'health', startMs: at + 2600, endMs: at + 5600 },
      );
      if (kind === 'failed')
        timeline.push({ phase: 'rollback', startMs: at + 5600, endMs: at + 9000 });
    }
    const change = (kind_, summary, extra = {}) => ({ kind: kind_, summary, ...extra });
    const tasks = {
      users: [change('user-create', 'create user hermes (home /var/lib/hermes)')],
      dirs: Array.from({ length: 8 }, (_, k) =>
        change('dir', `create directory /var/lib/hermes/d${k} (0750 hermes:hermes)`, {
          path: `/var/lib/hermes/d${k}`,
        }),
      ),
      release: [change('release-switch', 'switch current: 1a2b3c4d5e6f7a8b -> 3f2a9c0b1d4e5f60')],
      merge: [
        change('file', 'write /var/lib/hermes/.hermes/config.yaml', {
          path: '/var/lib/hermes/.hermes/config.yaml',
          diff: config(i).join('\n'),
        }),
      ],
      secrets: [
        change('file', 'write /var/lib/hermes/.hermes/.env (secret changed)', {
          path: '/var/lib/hermes/.hermes/.env',
          secret: true,
          keys: { added: ['OPENROUTER_API_KEY'], removed: [], changed: ['HERMES_TOKEN'] },
        }),
      ],
      docs: ['SOUL.md', 'AGENTS.md'].map((d) =>
        change('file', `write /var/lib/hermes/workspace/${d}`, {
          path: `/var/lib/hermes/workspace/${d}`,
          diff: `--- ${d}\n+++ ${d}\n@@ -1,3 +1,3 @@\n-old line\n+new line\n context\n context`,
        }),
      ),
      service: [
        change('systemd', 'restart hermes-agent.service (config.yaml changed)', {
          unit: 'hermes-agent.service',
          action: 'restart',
        }),
        change('wait-healthy', 'wait until hermes-agent.service is healthy (3 s)', {
          unit: 'hermes-agent.service',
        }),
      ],
    };
    const journal = Array.from(
      { length: 20 },
      (_, k) =>
        `2026-05-02T09:16:${String(k).padStart(2, '0')}+0000 ${host} hermes[316]: line ${k} of the gateway's log`,
    );
    const failure = `rolled back to generation 6: hermes-agent.service is activating (it did not stay up for 3 s), not active\n--- last log lines ---\n${journal.join('\n')}`;
    Object.entries(tasks).forEach(([task, changes], k) => {
      const failed = kind === 'failed' && task === 'service';
      lines.push({
        time,
        mode: 'run',
        host,
        task,
        status: kind === 'ok' ? 'ok' : failed ? 'failed' : 'changed',
        durationMs: 200 + k * 10,
        changes: kind === 'ok' ? [] : changes,
        ...(failed
          ? {
              message: failure,
              rollback: {
                outcome: 'rolled-back',
                generation: 6,
                cause: 'hermes-agent.service is activating',
              },
            }
          : {}),
        ...(k === 0
          ? {
              hostStatus: kind,
              hostDurationMs: timeline.at(-1).endMs - at,
              ...(kind === 'failed' ? { hostMessage: failure } : {}),
              timeline,
            }
          : {}),
        run,
      });
    });
  }
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}

/**
 * The HTML report (issue #28's targets: under 2 MB and rendered in under 1 s at 100 hosts):
 * `hermes-fleet report` makes the page of a synthetic run; its size; then Debian's headless
 * chromium loads it: the time from navigation to the page laid out after its script ran
 * (performance.now() after a forced layout, read from the DOM), and chromium's own wall time
 * for the same page against a blank one (its start-up).
 */
async function htmlBench() {
  const counts = sizesGiven ? sizes : [100];
  const dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-bench-html-'));
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const browse = async (url) => {
    const profile = mkdtempSync(join(dir, 'profile-'));
    const r = await run(chromium, [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      '--window-size=1400,1000',
      '--dump-dom',
      url,
    ]);
    if (r.code !== 0) throw new Error(`chromium failed: ${r.stderr.slice(-500)}`);
    return r;
  };
  const out = [];
  for (const n of counts) {
    const log = join(dir, `run-${n}.jsonl`);
    writeFileSync(log, syntheticLog(n));
    const page = join(dir, `run-${n}.html`);
    const made = await run(process.execPath, [bin, 'report', log, '-o', page]);
    if (made.code !== 0) throw new Error(`report failed: ${made.stderr}`);
    const bytes = statSync(page).size;
    // The same page, with a probe at its very end: laid out (offsetHeight forces it) after the
    // page's own script ran, the time since navigation began.
    const probe = join(dir, `run-${n}-probe.html`);
    writeFileSync(
      probe,
      readFileSync(page, 'utf8').replace(
        '</body>',
        `<script>document.body.offsetHeight;document.documentElement.setAttribute('data-rendered-ms',String(performance.now()))</script></body>`,
      ),
    );
    const blank = join(dir, 'blank.html');
    writeFileSync(blank, '<!doctype html><title>blank</title>');
    const rendered = [];
    const walls = [];
    const blanks = [];
    for (let i = 0; i < runs; i++) {
      const r = await browse(`file://${probe}`);
      const ms = /data-rendered-ms="([\d.]+)"/.exec(r.stdout)?.[1];
      if (ms === undefined) throw new Error('the probe did not run');
      rendered.push(Number(ms));
      walls.push(r.ms);
      blanks.push((await browse(`file://${blank}`)).ms);
    }
    const rows = (readFileSync(page, 'utf8').match(/<tr\s+data-host=/g) ?? []).length;
    out.push({
      n,
      rows,
      bytes,
      rendered: median(rendered),
      wall: median(walls),
      blank: median(blanks),
    });
  }
  const date = new Date().toISOString().slice(0, 10);
  console.log(
    [
      `Measured ${date} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, Debian's chromium headless; medians of ${runs} loads; a synthetic first deploy with --diff (most hosts changed, every 20th rolled back with 20 journal lines, every 33rd unreachable).`,
      '',
      '| hosts | page size | rendered (navigation → laid out, script run) | chromium wall time | blank page wall time |',
      '| ---: | ---: | ---: | ---: | ---: |',
      ...out.map(
        (r) =>
          `| ${r.n} (${r.rows} rows) | ${(r.bytes / 2 ** 20).toFixed(2)} MB | ${r.rendered.toFixed(0)} ms | ${secs(r.wall)} | ${secs(r.blank)} |`,
      ),
    ].join('\n'),
  );
}

if (releaseMode) {
  await releaseBench();
  process.exit(0);
}
if (ansibleLoadMode || htmlMode) {
  await (ansibleLoadMode ? ansibleLoadBench() : htmlBench());
  process.exit(0);
}

const rows = [];
console.error(`hermes-fleet bench: sizes ${sizes.join(', ')}, ${runs} runs each`);
const startupMs = await startup();
for (const n of sizes) {
  console.error(`\n== ${n} hosts: booting a ${booted ? '' : 'fresh '}fleet`);
  const upArgs = ['up', String(n), ...(booted ? [] : ['--fresh'])];
  const up = await run('bash', [join(root, 'test/fleet/fleet.sh'), ...upArgs], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (up.code !== 0) throw new Error(`fleet up ${n} failed`);
  const first = await cli(inventory(n, 'bench/model-0'));
  console.error(`first converge ${secs(first.ms)}`);
  const converge = [];
  const noop = [];
  const check = [];
  const floors = [];
  for (let i = 1; i <= runs; i++) {
    const file = inventory(n, `bench/model-${i}`);
    converge.push(await cli(file)); // one setting changed: merge + restart + health check
    noop.push(await cli(file));
    check.push(await cli(file, ['--check']));
    floors.push(await floor(n));
    console.error(
      `run ${i}: converge ${secs(converge.at(-1).ms)}, no-op ${secs(noop.at(-1).ms)}, check ${secs(check.at(-1).ms)}, floor ${secs(floors.at(-1))}`,
    );
  }
  const f = median(floors);
  const m = (xs) => median(xs.map((x) => x.ms));
  rows.push({
    n,
    first: first.ms,
    converge: m(converge),
    noop: m(noop),
    check: m(check),
    floor: f,
    rtNoop: noop[0].roundTrips,
    rtCheck: check[0].roundTrips,
    rtConverge: converge[0].roundTrips,
    channels: converge[0].channels,
    rss: Math.max(...[...converge, ...noop, ...check].map((x) => x.rssMB)),
  });
}
await run('bash', [join(root, 'test/fleet/fleet.sh'), 'down']);

const date = new Date().toISOString().slice(0, 10);
const lines = [
  `Measured ${date} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; medians of ${runs} runs; CLI start-up (\`--version\`) ${secs(startupMs)}.`,
  '',
  '| hosts | first converge | converge (1 setting) | no-op | check | floor (`ssh true` ×N) | no-op / floor | round trips no-op / check / converge | channels (converge) | peak memory |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.n} | ${secs(r.first)} | ${secs(r.converge)} | ${secs(r.noop)} | ${secs(r.check)} | ${secs(r.floor)} | ${(r.noop / r.floor).toFixed(2)}× | ${r.rtNoop} / ${r.rtCheck} / ${r.rtConverge} | ${r.channels} | ${r.rss.toFixed(0)} MB |`,
  ),
];
console.log(lines.join('\n'));
