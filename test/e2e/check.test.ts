// Issue: check mode, diffs and reports for CI, on real hosts. Five Debian hosts from the test
// fleet, the built CLI as a CI job runs it, and a snapshot of everything a deploy could touch
// (content hash, inode, mode, owner, mtime of every managed path, the accounts, the service's
// start time, and every file written anywhere since a marker) before and after each check.
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { TASK_NAMES } from '../../tasks/index.js';
import { jsonReportSchema, type JsonReport } from '../../src/report/json-schema.js';
import { CHECK_MODE_NOTE } from '../../src/report/recap.js';
import {
  bootFleet,
  describeFleet,
  sha256Hex,
  shellQuote,
  writeFleetInventory,
  type Fleet,
} from '../fleet/fleet.js';
import { MANAGED_DIRS, MANAGED_PATHS, runCli, snapshot, type CliResult } from './cli.js';
import { parseXml } from '../utils/xml.js';
import { UNIT_NAME as UNIT } from '../../tasks/lib/layout.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'hermes-fleet');

const HOSTS = 5;
const ALL = [1, 2, 3, 4, 5];
const STATE_DIR = '/var/lib/hermes';
const HERMES_HOME = `${STATE_DIR}/.hermes`;
const CONFIG = `${HERMES_HOME}/config.yaml`;
const ENV_FILE = `${HERMES_HOME}/.env`;
const AUTH = `${HERMES_HOME}/auth.json`;
const WORK = `${STATE_DIR}/workspace`;
const PENDING = '/run/hermes-fleet-restart-pending';
const UNIT_FILE = `/etc/systemd/system/${UNIT}`;
const DOCUMENTS = {
  'SOUL.md': 'You are a test agent.\n',
  'USER.md': 'The user likes short answers.\n',
};
/** Every path a run manages, and the account databases a missing user would be added to. */
const WATCHED = [
  ...MANAGED_PATHS,
  `${WORK}/SOUL.md`,
  `${WORK}/USER.md`,
  AUTH,
  '/etc/passwd',
  '/etc/group',
  '/etc/shadow',
  '/etc/gshadow',
];

/** Secret and non-secret values that must never appear in any output. */
interface Values {
  apiKey: string;
  authToken: string;
  /** A plain `environment` entry: it sits in .env, so it is shown like a secret. */
  logLevel: string;
}
const FIRST: Values = {
  apiKey: 'sk-or-v1-CHECKE2E-first-3c9f1a77',
  authToken: 'auth-CHECKE2E-first-77d0e2',
  logLevel: 'info-PLAINENV-first',
};
const ROTATED: Values = {
  apiKey: 'sk-or-v1-CHECKE2E-rotated-b41e0d93',
  authToken: 'auth-CHECKE2E-rotated-5a2c81',
  logLevel: 'debug-PLAINENV-rotated',
};
/** Any fragment of the values above. */
const VALUE_MARKERS = /CHECKE2E|PLAINENV/;

function hermesVars(v: Values): Record<string, unknown> {
  return {
    settings: {
      model: 'anthropic/claude-sonnet-4',
      compression: { enabled: true, threshold: 0.85 },
    },
    environment: { HERMES_LOG_LEVEL: v.logLevel },
    secrets: { OPENROUTER_API_KEY: { env: 'OPENROUTER_API_KEY' } },
    authFile: 'auth.json',
    authFileForceOverwrite: true,
    documents: DOCUMENTS,
  };
}

function authJson(v: Values): string {
  return `${JSON.stringify({ provider: 'openrouter', token: v.authToken }, null, 2)}\n`;
}

/** The fleet inventory (harness key and known_hosts) with `v`, and its auth.json beside it. */
function fleetInventory(v: Values): string {
  const file = writeFleetInventory(HOSTS, { all: { vars: { hermes: hermesVars(v) } } });
  writeFileSync(join(dirname(file), 'auth.json'), authJson(v));
  return file;
}

function envOf(v: Values): NodeJS.ProcessEnv {
  return { OPENROUTER_API_KEY: v.apiKey };
}

// ------------------------------------------------------------------------------------------
// Reading the CLI's output

const TASK_LINE = new RegExp(
  `^\\[(host\\d+)\\] (${TASK_NAMES.join('|')}): (ok|changed|failed|skipped)\\b`,
  'gm',
);
/** Tasks these hosts give nothing to do: they set no release, plugin or package. */
const NOTHING_TO_DO = ['release', 'plugins', 'packages'];
const TASKS = TASK_NAMES.length;

/** `host2/merge` → `changed`, from the plain lines. */
function taskStatuses(stdout: string): Map<string, string> {
  const statuses = new Map<string, string>();
  for (const [, host = '', task = '', status = ''] of stdout.matchAll(TASK_LINE)) {
    statuses.set(`${host}/${task}`, status);
  }
  return statuses;
}

function changedIn(statuses: Map<string, string>): string[] {
  return [...statuses]
    .filter(([, s]) => s === 'changed')
    .map(([k]) => k)
    .sort();
}

/** --json: stdout must be one JSON document and nothing else, in the documented shape. */
function parseReport(result: CliResult): JsonReport {
  return jsonReportSchema.parse(JSON.parse(result.stdout));
}

function changedTasksOf(report: JsonReport): string[] {
  return report.hosts
    .flatMap((h) => h.tasks.filter((t) => t.status === 'changed').map((t) => `${h.host}/${t.task}`))
    .sort();
}

/** What a run did or a check would do, without the timings. */
function outcome(report: JsonReport) {
  return report.hosts.map((h) => ({
    host: h.host,
    status: h.status,
    tasks: h.tasks.map((t) => ({ task: t.task, status: t.status, changes: t.changes })),
  }));
}

// ------------------------------------------------------------------------------------------
// The JUnit report against its documented shape (docs/report-schema.md)

const COUNTS = ['tests', 'failures', 'errors', 'skipped'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;

/**
 * Validates a JUnit file against the documented shape (every element, attribute and count) and
 * returns each test case's outcome: `host2/merge` → `pass`, `failure:drift`, `failure:failed`,
 * `error:unreachable` or `skipped`.
 */
function junitOutcomes(xml: string, mode: 'run' | 'check'): Map<string, string> {
  const root = parseXml(xml);
  expect(root.name).toBe('testsuites');
  expect(Object.keys(root.attrs).sort()).toEqual([...COUNTS, 'name', 'time'].sort());
  expect(root.attrs.name).toBe(`hermes-fleet ${mode}`);
  expect(root.attrs.time).toMatch(/^\d+\.\d{3}$/);
  const outcomes = new Map<string, string>();
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const suite of root.children) {
    expect(suite.name).toBe('testsuite');
    expect(Object.keys(suite.attrs).sort()).toEqual([...COUNTS, 'name', 'time'].sort());
    expect(suite.attrs.time).toMatch(/^\d+\.\d{3}$/);
    const host = suite.attrs.name ?? '';
    const counts: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const test of suite.children) {
      expect(test.name).toBe('testcase');
      expect(Object.keys(test.attrs).sort()).toEqual(['classname', 'name', 'time']);
      expect(test.attrs.classname).toBe(`hermes-fleet.${host}`);
      expect([...TASK_NAMES, 'connect', 'host', 'run']).toContain(test.attrs.name);
      expect(test.attrs.time).toMatch(/^\d+\.\d{3}$/);
      expect(test.children.length).toBeLessThanOrEqual(1);
      counts.tests++;
      let result = 'pass';
      const child = test.children[0];
      if (child) {
        expect(child.children).toEqual([]);
        switch (child.name) {
          case 'failure':
            expect(['failed', 'drift']).toContain(child.attrs.type);
            if (child.attrs.type === 'drift') expect(mode).toBe('check');
            expect(child.attrs.message).toBeTruthy();
            counts.failures++;
            result = `failure:${child.attrs.type ?? ''}`;
            break;
          case 'error':
            expect(child.attrs.type).toBe('unreachable');
            counts.errors++;
            result = 'error:unreachable';
            break;
          case 'skipped':
            counts.skipped++;
            result = 'skipped';
            break;
          default:
            throw new Error(`unexpected <${child.name}> in a testcase`);
        }
      }
      outcomes.set(`${host}/${test.attrs.name ?? ''}`, result);
    }
    for (const key of COUNTS) {
      expect(Number(suite.attrs[key]), `${host} ${key}`).toBe(counts[key]);
      total[key] += counts[key];
    }
  }
  for (const key of COUNTS) expect(Number(root.attrs[key]), key).toBe(total[key]);
  return outcomes;
}

function failuresIn(outcomes: Map<string, string>): Map<string, string> {
  return new Map([...outcomes].filter(([, o]) => o !== 'pass'));
}

// ------------------------------------------------------------------------------------------
// Running the CLI on a terminal

/** Escape sequences that set colours or text attributes. */
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/;

/** Runs the built CLI on a pseudo-terminal (util-linux `script`), as a person would. */
function runOnTty(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  // script's terminal has no size of its own when this process has none.
  const command = `stty cols 120 rows 50; exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output: output.replace(/\r/g, '') });
    });
  });
}

// ------------------------------------------------------------------------------------------
// The README's CI workflows

interface WorkflowStep {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface WorkflowJob {
  env?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown[]> };
  steps: WorkflowStep[];
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

/**
 * The ```yaml blocks of README.md's "hermes-fleet in CI" section: whole workflows, and jobs
 * shown on their own (a map of job name → job) that build on a workflow above.
 */
function readmeYamlBlocks(): { workflows: Workflow[]; jobs: Record<string, WorkflowJob>[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /^## hermes-fleet in CI\n([\s\S]*?)^## /m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "## hermes-fleet in CI" section');
  const blocks = [...section.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map(
    ([, block = '']) => parseYaml(block) as Record<string, unknown>,
  );
  return {
    workflows: blocks.filter((b) => 'jobs' in b) as unknown as Workflow[],
    jobs: blocks.filter((b) => !('jobs' in b)) as Record<string, WorkflowJob>[],
  };
}

/** `${{ secrets.X }}`, `${{ vars.X }}`, `${{ matrix.X }}` as GitHub substitutes them. */
function expand(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*((?:secrets|vars|matrix)\.\w+)\s*\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the test has no value for ${name}`);
    return value;
  });
}

/** Steps the test does not run: actions, and the install (it runs this checkout's CLI). */
function runnable(step: WorkflowStep): step is WorkflowStep & { run: string } {
  return step.run !== undefined && !/^npm ci\b/.test(step.run);
}

interface StepRun {
  name: string;
  code: number;
  output: string;
}

/**
 * Runs a job's `run:` steps as GitHub's runner does (bash -eo pipefail; workflow, job and step
 * env), in `workdir`. Stops at the first failing step, as a job does.
 */
async function runJob(
  steps: readonly WorkflowStep[],
  jobEnv: Record<string, string>,
  workdir: string,
  values: Record<string, string>,
  fixedEnv: Record<string, string>,
): Promise<StepRun[]> {
  const runs: StepRun[] = [];
  for (const step of steps.filter(runnable)) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    for (const [k, v] of Object.entries({ ...jobEnv, ...step.env })) env[k] = expand(v, values);
    Object.assign(env, fixedEnv);
    const script = join(workdir, `step-${runs.length}.sh`);
    writeFileSync(script, expand(step.run, values));
    const result = await new Promise<StepRun>((resolve, reject) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
        cwd: workdir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        resolve({ name: step.name ?? step.run, code: code ?? -1, output });
      });
    });
    runs.push(result);
    if (result.code !== 0) break;
  }
  return runs;
}

/** The ssh-agent a README step started on `socket` (identified by it), for the test to stop. */
function agentPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.endsWith('ssh-agent') && argv.includes(socket)) pids.push(Number(entry));
  }
  return pids;
}

// ------------------------------------------------------------------------------------------

describeFleet('check mode, diffs and reports on real hosts', () => {
  let fleet: Fleet;
  let inventory: string;
  let scratch: string;
  let freshCheck: JsonReport;
  let driftCheck: JsonReport;

  beforeAll(async () => {
    fleet = await bootFleet(HOSTS);
    inventory = fleetInventory(FIRST);
    scratch = mkdtempSync(join(tmpdir(), 'hermes-fleet-check-'));
  });

  const MARKER = '/run/hermes-fleet-check-e2e.marker';

  /** Everything on a host a run could touch, and the service's start. */
  async function hostState(i: number) {
    const [paths, unit, ids] = await Promise.all([
      snapshot(fleet, i, WATCHED),
      fleet.unit(i, UNIT),
      fleet.ssh(i, 'getent passwd hermes; getent group hermes; true'),
    ]);
    expect(paths.map((p) => p.path)).toEqual(WATCHED);
    return { paths, unit, accounts: ids.stdout };
  }

  function fleetState() {
    return Promise.all(ALL.map((i) => hostState(i)));
  }

  async function mark(): Promise<void> {
    // After a boot podman's API service runs until it has been idle for 5 s, and touches its
    // storage locks when it stops: wait for that, so what is written after the mark is ours.
    const settled = `for n in $(seq 100); do systemctl -q is-active podman.service || break; sleep 0.2; done; touch ${MARKER}`;
    await Promise.all(ALL.map((i) => fleet.ssh(i, settled)));
  }

  /**
   * Every path written since mark(), anywhere on the host's disk and in its /tmp, /var/tmp and
   * /dev/shm (a temporary file that was renamed away or deleted still changes its directory's
   * mtime). The journal records the SSH logins themselves.
   */
  async function writtenSinceMark(i: number): Promise<string[]> {
    const found = await fleet.ssh(
      i,
      `test -e ${MARKER} && { find / /tmp /var/tmp /dev/shm -xdev -newer ${MARKER} 2>/dev/null; true; }`,
    );
    expect(found.code, `host${i} has the marker`).toBe(0);
    return found.stdout
      .split('\n')
      .filter((p) => p !== '' && !['/run', '/proc', '/sys', '/dev'].includes(p))
      .filter((p) => p !== '/var/log/journal' && !p.startsWith('/var/log/journal/'));
  }

  async function expectNothingWritten(): Promise<void> {
    for (const i of ALL) expect(await writtenSinceMark(i), `host${i}`).toEqual([]);
  }

  it('check mode on brand-new hosts reports every task as a creation and creates nothing', async () => {
    const before = await fleetState();
    for (const state of before) {
      expect(state.accounts).toBe('');
      expect(state.paths.find((p) => p.path === STATE_DIR)?.inode).toBe('absent');
    }
    await mark();

    const plain = await runCli(
      ['run', '-i', inventory, '--check', '--diff', '--detailed-exitcode'],
      {
        env: envOf(FIRST),
      },
    );
    expect(plain.code, plain.all).toBe(3);
    const statuses = taskStatuses(plain.stdout);
    expect(statuses.size).toBe(HOSTS * TASK_NAMES.length);
    // Every task creates something, but those these hosts set nothing for.
    for (const [key, status] of statuses) {
      const task = key.slice(key.indexOf('/') + 1);
      expect(status, key).toBe(NOTHING_TO_DO.includes(task) ? 'ok' : 'changed');
    }
    for (const i of ALL) {
      for (const path of [CONFIG, `${WORK}/SOUL.md`, `${WORK}/USER.md`, UNIT_FILE]) {
        expect(plain.stdout).toContain(
          `--- host${i}:${path} (absent)\n+++ host${i}:${path} (after)\n`,
        );
      }
      expect(plain.stdout).toContain(
        `--- host${i}:${ENV_FILE} (absent)\n+++ host${i}:${ENV_FILE} (after)\n`,
      );
    }
    expect(plain.stdout).toContain('\n+You are a test agent.\n');
    expect(plain.stdout).toContain('\n+ExecStart=/opt/hermes/bin/hermes gateway\n');
    expect(plain.stdout).toContain(
      '\n+ HERMES_LOG_LEVEL (secret added)\n+ OPENROUTER_API_KEY (secret added)\n',
    );
    expect(plain.stdout).toContain('\n+ provider (secret added)\n+ token (secret added)\n');
    expect(plain.stdout).toMatch(
      new RegExp(`^host1 +: ok=${TASKS} +changed=6 +unreachable=0 +failed=0 +skipped=0$`, 'm'),
    );
    expect(plain.stdout.trimEnd().endsWith(CHECK_MODE_NOTE)).toBe(true);

    const json = await runCli(
      ['run', '-i', inventory, '--check', '--diff', '--json', '--detailed-exitcode'],
      { env: envOf(FIRST) },
    );
    expect(json.code, json.stderr).toBe(3);
    freshCheck = parseReport(json);
    expect(freshCheck).toMatchObject({
      version: 1,
      mode: 'check',
      exitCode: 3,
      interrupted: false,
    });
    for (const host of freshCheck.hosts) {
      expect(host.status).toBe('changed');
      expect(freshCheck.recap[host.host]).toEqual({
        ok: TASKS,
        changed: 6,
        unreachable: 0,
        failed: 0,
        skipped: 0,
      });
      // Each later task plans against what the earlier ones would have made: a user that does
      // not exist yet owns the directories and files, nothing is "replaced" or mis-owned.
      const summaries = Object.fromEntries(
        host.tasks.map((t) => [t.task, t.changes.map((c) => c.summary)]),
      );
      expect(summaries).toEqual({
        users: [
          'create group hermes',
          'create user hermes (home /var/lib/hermes, shell /bin/bash)',
        ],
        dirs: MANAGED_DIRS.map((d) => `create directory ${d} (0750 hermes:hermes)`),
        release: [],
        // merge, secrets and docs each end with the record of what the fleet owns.
        merge: [
          `write ${CONFIG} (0640 hermes:hermes)`,
          `write ${HERMES_HOME}/.managed (0644 hermes:hermes)`,
          `write ${HERMES_HOME}/.fleet-owned-config.json (0600 hermes:hermes)`,
        ],
        secrets: [
          `write ${ENV_FILE} (0600 hermes:hermes)`,
          `write ${AUTH} (0600 hermes:hermes)`,
          `write ${HERMES_HOME}/.fleet-owned-env.json (0600 hermes:hermes)`,
        ],
        docs: [
          `write ${WORK}/SOUL.md (0640 hermes:hermes)`,
          `write ${WORK}/USER.md (0640 hermes:hermes)`,
          `write ${HERMES_HOME}/.fleet-owned-documents.json (0600 hermes:hermes)`,
        ],
        // These hosts set no extraPlugins and no extraPackages.
        plugins: [],
        packages: [],
        service: [
          `write ${UNIT_FILE} (0644 root:root)`,
          'systemctl daemon-reload (unit file changed)',
          `enable ${UNIT} (start at boot)`,
          `start ${UNIT} (the unit was not running)`,
          `wait until ${UNIT} is healthy (3s)`,
          // The healthy change is recorded as a generation.
          `record a generation in /var/lib/hermes-fleet/generations (unit, config.yaml, .env, auth.json, documents/SOUL.md, documents/USER.md; keep 10)`,
        ],
      });
      const secrets = (host.tasks.find((t) => t.task === 'secrets')?.changes ?? []).filter(
        (c) => c.secret,
      );
      expect(secrets.map((c) => [c.secret, c.diff, c.keys?.added])).toEqual([
        [true, undefined, ['HERMES_LOG_LEVEL', 'OPENROUTER_API_KEY']],
        [true, undefined, ['provider', 'token']],
      ]);
      const config = host.tasks.find((t) => t.task === 'merge')?.changes[0];
      expect(config).toMatchObject({ mode: { before: null, after: '0640' } });
      expect(config?.diff).toContain(`+++ ${host.host}:${CONFIG} (after)`);
    }

    expect(await fleetState()).toEqual(before);
    await expectNothingWritten();
    for (const i of ALL) {
      expect(await fleet.unit(i, UNIT)).toMatchObject({ load: 'not-found', active: 'inactive' });
    }
  });

  it('a real run straight after the check changes exactly what the check reported', async () => {
    const run = await runCli(['run', '-i', inventory, '--diff', '--json', '--detailed-exitcode'], {
      env: envOf(FIRST),
    });
    expect(run.code, run.stderr).toBe(3);
    const report = parseReport(run);
    expect(report.mode).toBe('run');
    expect(outcome(report)).toEqual(outcome(freshCheck));
    for (const i of ALL) {
      expect(await fleet.unit(i, UNIT)).toMatchObject({ active: 'active', enabled: 'enabled' });
      expect((await fleet.standinRecord(i))?.env.OPENROUTER_API_KEY).toBe(sha256Hex(FIRST.apiKey));
    }
  });

  it('names exactly the drifted hosts and tasks, shows the drifted lines, exits 3 and touches nothing', async () => {
    // Hand-made drift on two of five hosts.
    await fleet.ssh(2, `sed -i 's/^  threshold: 0.85$/  threshold: 0.5/' ${CONFIG}`);
    expect(await fleet.read(2, CONFIG)).toContain('  threshold: 0.5\n');
    await fleet.ssh(2, `rm ${WORK}/USER.md`);
    await fleet.ssh(4, `chmod 0644 ${ENV_FILE}`);

    const before = await fleetState();
    await mark();
    const junitFile = join(scratch, 'drift.xml');
    const check = await runCli(
      ['run', '-i', inventory, '--check', '--diff', '--detailed-exitcode', '--junit', junitFile],
      { env: envOf(FIRST) },
    );
    expect(check.code, check.all).toBe(3);
    // A real run would restart host2's gateway for its config and document, so service is
    // drift too; a mode fix on .env restarts nothing.
    const statuses = taskStatuses(check.stdout);
    expect(statuses.size).toBe(HOSTS * TASK_NAMES.length);
    expect(changedIn(statuses)).toEqual([
      'host2/docs',
      'host2/merge',
      'host2/service',
      'host4/secrets',
    ]);
    expect(check.stdout).toContain(
      [
        `--- host2:${CONFIG} (before)`,
        `+++ host2:${CONFIG} (after)`,
        '@@ -1,4 +1,4 @@',
        ' model: anthropic/claude-sonnet-4',
        ' compression:',
        '   enabled: true',
        '-  threshold: 0.5',
        '+  threshold: 0.85',
      ].join('\n'),
    );
    expect(check.stdout).toContain(
      [
        `--- host2:${WORK}/USER.md (absent)`,
        `+++ host2:${WORK}/USER.md (after)`,
        '@@ -0,0 +1,1 @@',
        '+The user likes short answers.',
      ].join('\n'),
    );
    expect(check.stdout).toContain(`\nhost4:${ENV_FILE}: mode 0644 → 0600\n`);
    // Only the drifted files: no diff for host2's .env or for any host in sync.
    expect(check.stdout.match(/^(?:---|\+\+\+|host\d:\/)/gm)).toHaveLength(5);
    expect(check.stdout).toMatch(
      new RegExp(`^host2 +: ok=${TASKS} +changed=3 +unreachable=0 +failed=0`, 'm'),
    );
    expect(check.stdout).toMatch(
      new RegExp(`^host4 +: ok=${TASKS} +changed=1 +unreachable=0 +failed=0`, 'm'),
    );
    for (const host of ['host1', 'host3', 'host5']) {
      expect(check.stdout).toMatch(new RegExp(`^${host} +: ok=${TASKS} +changed=0 `, 'm'));
    }
    expect(check.stdout).toContain(CHECK_MODE_NOTE);

    const outcomes = junitOutcomes(readFileSync(junitFile, 'utf8'), 'check');
    expect(outcomes.size).toBe(HOSTS * TASK_NAMES.length);
    expect(failuresIn(outcomes)).toEqual(
      new Map([
        ['host2/merge', 'failure:drift'],
        ['host2/docs', 'failure:drift'],
        ['host2/service', 'failure:drift'],
        ['host4/secrets', 'failure:drift'],
      ]),
    );
    expect(readFileSync(junitFile, 'utf8')).toContain(`message="would change: update ${CONFIG}"`);

    const json = await runCli(
      ['run', '-i', inventory, '--check', '--diff', '--json', '--detailed-exitcode'],
      { env: envOf(FIRST) },
    );
    expect(json.code, json.stderr).toBe(3);
    driftCheck = parseReport(json);
    expect(driftCheck).toMatchObject({ mode: 'check', exitCode: 3 });
    expect(changedTasksOf(driftCheck)).toEqual(changedIn(statuses));
    const host2 = driftCheck.hosts.find((h) => h.host === 'host2');
    const service = host2?.tasks.find((t) => t.task === 'service')?.changes ?? [];
    expect(service.map((c) => c.summary)).toEqual([
      `restart ${UNIT} (config.yaml changed, USER.md changed)`,
      `wait until ${UNIT} is healthy (3s)`,
      // The healthy change is recorded as a generation.
      `record a generation in /var/lib/hermes-fleet/generations (unit, config.yaml, .env, auth.json, documents/SOUL.md, documents/USER.md; keep 10)`,
      // The running gateway's restart is noted first (merge), cleared once it passed.
      `clear the pending-restart note ${PENDING}`,
    ]);
    const env = driftCheck.hosts
      .find((h) => h.host === 'host4')
      ?.tasks.find((t) => t.task === 'secrets')?.changes;
    expect(env).toEqual([
      {
        kind: 'attrs',
        path: ENV_FILE,
        summary: `mode 0644 → 0600 ${ENV_FILE}`,
        mode: { before: '0644', after: '0600' },
      },
    ]);

    expect(await fleetState()).toEqual(before);
    await expectNothingWritten();
  });

  it('a real run straight after the drift check changes exactly what it reported; then all is in sync', async () => {
    const run = await runCli(['run', '-i', inventory, '--diff', '--json'], { env: envOf(FIRST) });
    expect(run.code, run.stderr).toBe(0);
    const report = parseReport(run);
    expect(outcome(report)).toEqual(outcome(driftCheck));
    expect(await fleet.read(2, `${WORK}/USER.md`)).toBe(DOCUMENTS['USER.md']);
    expect(await fleet.stat(4, ENV_FILE)).toMatchObject({ mode: 0o600 });

    const junitFile = join(scratch, 'in-sync.xml');
    const check = await runCli(
      ['run', '-i', inventory, '--check', '--diff', '--detailed-exitcode', '--junit', junitFile],
      { env: envOf(FIRST) },
    );
    expect(check.code, check.all).toBe(0);
    expect([...taskStatuses(check.stdout).values()]).toEqual(
      Array(HOSTS * TASK_NAMES.length).fill('ok'),
    );
    expect(failuresIn(junitOutcomes(readFileSync(junitFile, 'utf8'), 'check')).size).toBe(0);
  });

  it('diffs the unit file and the merged config.yaml against the host file; mode and owner as one line each', async () => {
    await fleet.ssh(1, `sed -i 's/^RestartSec=5$/RestartSec=1/' ${UNIT_FILE}`);
    await fleet.ssh(
      1,
      `sed -i 's|^model: .*|model: hand/edited|' ${CONFIG} && printf 'my_own_key: kept\\n' >> ${CONFIG}`,
    );
    await fleet.ssh(1, `chown root:root ${WORK}/SOUL.md && chmod 0600 ${WORK}/SOUL.md`);
    const check = await runCli(['run', '-i', inventory, '--check', '--diff', '-l', 'host1'], {
      env: envOf(FIRST),
    });
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toContain(
      `--- host1:${UNIT_FILE} (before)\n+++ host1:${UNIT_FILE} (after)\n`,
    );
    expect(check.stdout).toContain('\n-RestartSec=1\n+RestartSec=5\n');
    expect(check.stdout).toContain(`--- host1:${CONFIG} (before)\n+++ host1:${CONFIG} (after)\n`);
    expect(check.stdout).toContain('\n-model: hand/edited\n+model: anthropic/claude-sonnet-4\n');
    // The merge keeps a key a person added on the host: it is no line of the diff.
    expect(check.stdout).not.toMatch(/^[-+].*my_own_key/m);
    expect(check.stdout).toContain(`\nhost1:${WORK}/SOUL.md: mode 0600 → 0640\n`);
    expect(check.stdout).toContain(`\nhost1:${WORK}/SOUL.md: owner root:root → hermes:hermes\n`);
    expect(changedIn(taskStatuses(check.stdout))).toEqual([
      'host1/docs',
      'host1/merge',
      'host1/service',
    ]);

    const run = await runCli(['run', '-i', inventory, '-l', 'host1'], { env: envOf(FIRST) });
    expect(run.code, run.all).toBe(0);
    expect(await fleet.read(1, CONFIG)).toContain('my_own_key: kept\n');
  });

  it('shows a rotated secret as "(secret changed)" and no value in any output, mode or verbosity', async () => {
    const rotated = fleetInventory(ROTATED);
    const outputs: { what: string; text: string }[] = [];
    const file = (name: string) => join(scratch, name);
    const readReport = (name: string) => readFileSync(file(name), 'utf8');

    for (const verbosity of [[], ['-v'], ['-vv']]) {
      const check = await runCli(['run', '-i', rotated, '--check', '--diff', ...verbosity], {
        env: envOf(ROTATED),
      });
      expect(check.code, check.all).toBe(0);
      outputs.push({ what: `check --diff ${verbosity.join(' ')}`, text: check.all });
      for (const i of ALL) {
        expect(check.stdout).toContain(
          [
            `--- host${i}:${ENV_FILE} (before)`,
            `+++ host${i}:${ENV_FILE} (after)`,
            '~ HERMES_LOG_LEVEL (secret changed)',
            '~ OPENROUTER_API_KEY (secret changed)',
            `--- host${i}:${AUTH} (before)`,
            `+++ host${i}:${AUTH} (after)`,
            '~ token (secret changed)',
          ].join('\n'),
        );
      }
    }

    const json = await runCli(
      [
        'run',
        '-i',
        rotated,
        '--check',
        '--diff',
        '-vv',
        '--json',
        '--junit',
        file('rotated-check.xml'),
        '--log',
        file('rotated-check.jsonl'),
      ],
      { env: envOf(ROTATED) },
    );
    expect(json.code, json.stderr).toBe(0);
    outputs.push(
      { what: 'check --json -vv', text: json.all },
      { what: 'check --junit', text: readReport('rotated-check.xml') },
      { what: 'check --log', text: readReport('rotated-check.jsonl') },
    );
    for (const host of parseReport(json).hosts) {
      const secrets = host.tasks.find((t) => t.task === 'secrets');
      expect(secrets?.changes).toEqual([
        {
          kind: 'restart-pending',
          summary: `note that ${UNIT} must restart (${PENDING}, until a restart succeeds)`,
          path: PENDING,
        },
        {
          kind: 'file',
          summary: `update ${ENV_FILE}`,
          path: ENV_FILE,
          secret: true,
          keys: { added: [], removed: [], changed: ['HERMES_LOG_LEVEL', 'OPENROUTER_API_KEY'] },
        },
        {
          kind: 'file',
          summary: `update ${AUTH}`,
          path: AUTH,
          secret: true,
          keys: { added: [], removed: [], changed: ['token'] },
        },
      ]);
    }
    expect(failuresIn(junitOutcomes(readReport('rotated-check.xml'), 'check')).size).toBe(
      HOSTS * 2, // secrets, and the restart it needs
    );

    const tty = await runOnTty(['run', '-i', rotated, '--check', '--diff', '-vv'], {
      ...envOf(ROTATED),
      NO_COLOR: undefined,
    });
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toContain('~ OPENROUTER_API_KEY (secret changed)');
    outputs.push({ what: 'check on a terminal -vv', text: tty.output });

    // The real run that rotates it, in human form, and the run that rotates it back, as JSON.
    const run = await runCli(
      [
        'run',
        '-i',
        rotated,
        '--diff',
        '-vv',
        '--junit',
        file('rotated-run.xml'),
        '--log',
        file('rotated-run.jsonl'),
      ],
      { env: envOf(ROTATED) },
    );
    expect(run.code, run.all).toBe(0);
    expect(run.stdout).toContain('~ OPENROUTER_API_KEY (secret changed)');
    outputs.push(
      { what: 'run --diff -vv', text: run.all },
      { what: 'run --junit', text: readReport('rotated-run.xml') },
      { what: 'run --log', text: readReport('rotated-run.jsonl') },
    );
    expect(failuresIn(junitOutcomes(readReport('rotated-run.xml'), 'run')).size).toBe(0);
    for (const i of ALL) {
      const record = await fleet.standinRecord(i);
      expect(record?.env.OPENROUTER_API_KEY).toBe(sha256Hex(ROTATED.apiKey));
      expect(record?.env.HERMES_LOG_LEVEL).toBe(sha256Hex(ROTATED.logLevel));
    }

    const back = await runCli(
      ['run', '-i', inventory, '--diff', '-vv', '--json', '--junit', file('back.xml')],
      { env: envOf(FIRST) },
    );
    expect(back.code, back.stderr).toBe(0);
    expect(parseReport(back).hosts.every((h) => h.status === 'changed')).toBe(true);
    outputs.push(
      { what: 'run --json -vv', text: back.all },
      { what: 'run --junit (back)', text: readReport('back.xml') },
    );

    for (const { what, text } of outputs) {
      for (const value of [FIRST, ROTATED].flatMap((v) => [v.apiKey, v.authToken, v.logLevel])) {
        expect(text, what).not.toContain(value);
      }
      expect(text, what).not.toMatch(VALUE_MARKERS);
    }
  });

  it('colours only on a terminal, never with NO_COLOR, and --json stays pure JSON there', async () => {
    const args = [
      'run',
      '-i',
      inventory,
      '--check',
      '--diff',
      '-l',
      'host1:host2',
      '-e',
      'hermes.settings.model=other/model',
    ];
    const env = { ...envOf(FIRST), NO_COLOR: undefined };

    const tty = await runOnTty(args, env);
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toMatch(SGR);
    expect(tty.output).toMatch(/\+model: other\/model/);
    expect(tty.output).toContain(CHECK_MODE_NOTE);

    const noColor = await runOnTty(args, { ...env, NO_COLOR: '1' });
    expect(noColor.code, noColor.output).toBe(0);
    expect(noColor.output).not.toMatch(SGR);
    expect(noColor.output).toContain('\n+model: other/model\n');

    const piped = await runCli(args, { env });
    expect(piped.code, piped.all).toBe(0);
    expect(piped.all).not.toContain('\u001b');
    expect(piped.stdout).toContain('\n+model: other/model\n');

    const json = await runOnTty([...args, '--json', '-vv'], env);
    expect(json.code, json.output).toBe(0);
    // The terminal shows stderr too: -vv's one stats line; everything else is the document.
    const stats = /^stats: hosts=2 [^\n]*\n/m;
    expect(json.output).toMatch(stats);
    expect(jsonReportSchema.parse(JSON.parse(json.output.replace(stats, ''))).mode).toBe('check');
  });

  it("runs the README's CI workflows as written: drift fails with exit 3, the preview passes and shows it, shards split the fleet", async () => {
    const { workflows, jobs } = readmeYamlBlocks();
    expect(workflows).toHaveLength(2);
    const steps = workflows.flatMap((w) => Object.values(w.jobs).flatMap((j) => j.steps));
    // Not run here: checkout, setup-node, the install (npm ci && npm link; the test puts this
    // checkout's CLI on PATH instead) and the artifact upload.
    expect(steps.filter((s) => !runnable(s)).map((s) => s.uses ?? s.run)).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'npm ci && npm link',
      'actions/upload-artifact@v4',
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'npm ci && npm link',
    ]);
    const [drift, preview] = workflows as [Workflow, Workflow];
    const driftJob = Object.values(drift.jobs)[0];
    const previewJob = Object.values(preview.jobs)[0];
    if (!driftJob || !previewJob) throw new Error('a README workflow has no job');

    const bin = join(scratch, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(BIN, join(bin, 'hermes-fleet'));
    const values = {
      'secrets.DEPLOY_SSH_KEY': readFileSync(fleet.paths.key, 'utf8'),
      'vars.FLEET_KNOWN_HOSTS': readFileSync(fleet.paths.knownHosts, 'utf8'),
      'secrets.OPENROUTER_API_KEY': FIRST.apiKey,
    };
    // The inventory a CI repository keeps: no key or known_hosts paths, those come from the
    // agent and ~/.ssh/known_hosts the workflow sets up.
    const hosts = Object.fromEntries(
      ALL.map((i) => [`host${i}`, { ssh: { host: fleet.hostAddress(i) } }]),
    );
    const inventoryText = stringify({
      all: { vars: { ssh: { user: 'root' }, hermes: hermesVars(FIRST) }, hosts },
    });
    let runs = 0;
    const runIn = async (
      steps: readonly WorkflowStep[],
      jobEnv: Record<string, string>,
      matrix: Record<string, string> = {},
    ) => {
      const workdir = join(scratch, `workflow-${++runs}`);
      const home = join(workdir, 'home');
      mkdirSync(home, { recursive: true });
      writeFileSync(join(workdir, 'hosts.yaml'), inventoryText);
      writeFileSync(join(workdir, 'auth.json'), authJson(FIRST));
      const summary = join(workdir, 'summary.md');
      writeFileSync(summary, '');
      // The README's agent socket is one fixed path; runs of this test on one machine need their own.
      const socket = join(workdir, 'agent.sock');
      try {
        const stepRuns = await runJob(
          steps,
          jobEnv,
          workdir,
          { ...values, ...matrix },
          {
            HOME: home,
            SSH_AUTH_SOCK: socket,
            GITHUB_STEP_SUMMARY: summary,
            PATH: `${bin}:${process.env.PATH ?? ''}`,
          },
        );
        return { stepRuns, workdir, summary: readFileSync(summary, 'utf8') };
      } finally {
        for (const pid of agentPids(socket)) process.kill(pid);
      }
    };
    const runWorkflowJob = (workflow: Workflow, job: WorkflowJob) =>
      runIn(job.steps, { ...workflow.env, ...job.env });
    const runDrift = () => runWorkflowJob(drift, driftJob);
    const runPreview = () => runWorkflowJob(preview, previewJob);

    // In sync: both pass.
    const syncDrift = await runDrift();
    expect(
      syncDrift.stepRuns.map((s) => s.code),
      JSON.stringify(syncDrift.stepRuns),
    ).toEqual([0, 0]);
    expect(
      failuresIn(junitOutcomes(readFileSync(join(syncDrift.workdir, 'drift.xml'), 'utf8'), 'check'))
        .size,
    ).toBe(0);
    const syncPreview = await runPreview();
    expect(
      syncPreview.stepRuns.map((s) => s.code),
      JSON.stringify(syncPreview.stepRuns),
    ).toEqual([0, 0]);
    expect(syncPreview.summary).toMatch(/^```diff\n[\s\S]*PLAY RECAP[\s\S]*\n```\n$/);

    // Drift on host3: the drift job fails with 3 and names it; the preview passes and shows it.
    await fleet.ssh(3, `chmod 0640 ${ENV_FILE}`);
    const drifted = await runDrift();
    expect(
      drifted.stepRuns.map((s) => s.code),
      JSON.stringify(drifted.stepRuns),
    ).toEqual([0, 3]);
    expect(drifted.stepRuns[1]?.output).toContain(`host3:${ENV_FILE}: mode 0640 → 0600`);
    expect(
      failuresIn(junitOutcomes(readFileSync(join(drifted.workdir, 'drift.xml'), 'utf8'), 'check')),
    ).toEqual(new Map([['host3/secrets', 'failure:drift']]));
    const previewed = await runPreview();
    expect(
      previewed.stepRuns.map((s) => s.code),
      JSON.stringify(previewed.stepRuns),
    ).toEqual([0, 0]);
    expect(previewed.stepRuns[1]?.output).toContain(`host3:${ENV_FILE}: mode 0640 → 0600`);
    expect(previewed.summary).toContain(`host3:${ENV_FILE}: mode 0640 → 0600`);
    expect(await fleet.stat(3, ENV_FILE)).toMatchObject({ mode: 0o640 });

    // A failed host fails the preview.
    await fleet.ssh(5, `chmod 0644 /opt/hermes/bin/hermes`);
    const failing = await runPreview();
    expect(
      failing.stepRuns.map((s) => s.code),
      JSON.stringify(failing.stepRuns),
    ).toEqual([0, 1]);
    expect(failing.stepRuns[1]?.output).toMatch(/host5: failed in service: .*not executable/);
    await fleet.ssh(5, `chmod 0755 /opt/hermes/bin/hermes`);

    // The CI matrix job: "checkout, install hermes-fleet, load the keys: as above", then its own
    // steps; each shard deploys its part of the fleet, and together they cover every host once.
    expect(jobs).toHaveLength(1);
    const [[, shardJob] = []] = jobs.map((j) => Object.entries(j)).flat();
    const shards = shardJob?.strategy?.matrix?.shard;
    if (!shardJob || !shards) throw new Error('the README matrix job has no matrix.shard');
    const loadKeys = driftJob.steps.filter((s) => s.run?.includes('ssh-add'));
    expect(loadKeys).toHaveLength(1);
    const deployed: string[] = [];
    for (const shard of shards) {
      const job = await runIn(
        [...loadKeys, ...shardJob.steps],
        { ...drift.env, ...shardJob.env },
        {
          'matrix.shard': String(shard),
        },
      );
      expect(
        job.stepRuns.map((s) => s.code),
        JSON.stringify(job.stepRuns),
      ).toEqual([0, 0]);
      const log = readFileSync(join(job.workdir, `fleet-${String(shard)}.jsonl`), 'utf8');
      const lines = log
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { host: string; mode: string });
      expect(lines.every((l) => l.mode === 'run')).toBe(true);
      deployed.push(...new Set(lines.map((l) => l.host)));
    }
    expect(deployed.sort()).toEqual(ALL.map((i) => `host${i}`));
    // host3's drift was in one of the shards: the fleet is in sync again.
    expect(await fleet.stat(3, ENV_FILE)).toMatchObject({ mode: 0o600 });
  });
});
