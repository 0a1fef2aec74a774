// Issue: SSH as people really use it. The built CLI against real sshds on the test fleet: host
// key policies and known_hosts as OpenSSH writes it, an ssh config file, agent and encrypted
// keys, a bastion carrying ten hosts, connect timeouts on every hop, hosts lost in the middle of
// a run (sshd killed, power pulled, frozen), Ctrl-C, and --forks against `ulimit -n`.
import { TASK_NAMES } from '../../tasks/index.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { JsonReport } from '../../src/report/json-schema.js';
import {
  FLEET_NET,
  FLEET_SH,
  bootFleet,
  describeFleet,
  shellQuote,
  type Fleet,
} from '../fleet/fleet.js';
import {
  snapshot,
  startCli as startCliAt,
  type CliResult,
  type PathSnapshot,
  type StartedCli,
} from './cli.js';

const HOSTS = 11; // host11 is the bastion; host1..host10 sit behind it
const BASTION = 11;
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'hermes-fleet');

/** Every file the deploy writes, plus the ones these tests add. */
const FILES = [
  '/var/lib/hermes/.hermes/config.yaml',
  '/var/lib/hermes/.hermes/.managed',
  '/var/lib/hermes/.hermes/.env',
  '/var/lib/hermes/workspace/BIG.md',
  '/etc/systemd/system/hermes-agent.service',
] as const;

describeFleet('ssh on real hosts', () => {
  let fleet: Fleet;
  let work: string;
  let home: string;
  const agents: ChildProcess[] = [];

  const addr = (i: number) => fleet.hostAddress(i);

  /** The CLI with a clean HOME (no ~/.ssh) and no agent unless the test gives them. */
  const startCli = (args: readonly string[], env: NodeJS.ProcessEnv = {}): StartedCli =>
    startCliAt(args, {
      env: { HOME: home, SSH_AUTH_SOCK: '', ...env },
      timeoutMs: 170_000,
      waitTimeoutMs: 60_000,
    });

  const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => startCli(args, env).done;

  let inventories = 0;
  /** An inventory file: `hosts` maps names to their `ssh` settings; `vars` go under all.vars. */
  function inventory(hosts: Record<string, object>, vars: object = {}): string {
    const file = join(work, `inventory-${++inventories}.yaml`);
    const entries = Object.fromEntries(Object.entries(hosts).map(([n, ssh]) => [n, { ssh }]));
    writeFileSync(
      file,
      stringify({
        all: { vars: { hermes: { settings: { model: 'e2e/ssh' } }, ...vars }, hosts: entries },
      }),
    );
    return file;
  }

  /** Root with the harness key, checked against the harness's known_hosts. */
  const harnessSsh = (extra: object = {}) => ({
    user: 'root',
    identityFile: fleet.paths.key,
    knownHosts: fleet.paths.knownHosts,
    ...extra,
  });

  function json(result: CliResult): JsonReport {
    try {
      return JSON.parse(result.stdout) as JsonReport;
    } catch {
      throw new Error(`not a JSON report (exit ${result.code}):\n${result.all}`);
    }
  }

  function hostOf(report: JsonReport, name: string) {
    const host = report.hosts.find((h) => h.host === name);
    if (!host) throw new Error(`${name} is not in the report`);
    return host;
  }

  function writeFile(name: string, content: string, mode = 0o600): string {
    const file = join(work, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { mode });
    return file;
  }

  function sh(cmd: string, env: NodeJS.ProcessEnv = {}): string {
    const r = spawnSync('/bin/sh', ['-c', cmd], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  function fleetSh(...args: string[]): void {
    const r = spawnSync('bash', [FLEET_SH, ...args], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`fleet.sh ${args.join(' ')} failed: ${r.stderr}`);
  }

  /** The host's cgroup (v2), for freezing it or pulling its plug. */
  function cgroupOf(i: number): string {
    const suffix = FLEET_NET === 1 ? '' : `-net${FLEET_NET}`;
    for (const base of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
      const dir = `${base}/hermes-fleet-test${suffix}/host${i}`;
      if (existsSync(`${dir}/cgroup.freeze`)) return dir;
    }
    throw new Error(`no cgroup v2 directory with cgroup.freeze for host${i}`);
  }
  const freeze = (i: number, on: boolean) => {
    writeFileSync(`${cgroupOf(i)}/cgroup.freeze`, on ? '1' : '0');
  };
  const frozen = new Set<number>();

  /** Established TCP connections to port 22 that belong to process `pid`: their peers. */
  function sshPeersOf(pid: number): string[] {
    const out = sh(`ss -tnpH state established '( dport = :22 )'`);
    return out
      .split('\n')
      .filter((line) => line.includes(`pid=${pid},`))
      .map((line) => line.trim().split(/\s+/)[3] ?? '?');
  }

  /** Samples `sshPeersOf` every 100 ms until `done` settles. */
  async function watchPeers(pid: number, done: Promise<unknown>): Promise<string[][]> {
    const samples: string[][] = [];
    const state = { finished: false };
    void done.finally(() => {
      state.finished = true;
    });
    while (!state.finished) {
      samples.push(sshPeersOf(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    return samples;
  }

  /** Lines of sshd's log that record a login (for "nothing happened on the host"). */
  async function logins(i: number): Promise<number> {
    const r = await fleet.ssh(
      i,
      "journalctl -u ssh.service --no-pager -o cat | grep -c 'Accepted publickey' || true",
    );
    return Number(r.stdout.trim());
  }

  /**
   * Temporary files a run left. Not the whole copies of the files a batch replaced, kept for its
   * rollback (`.hermes-fleet.undo.*`): a batch that dies with its host (power pulled) leaves
   * those, and the next run removes them (undoCopies).
   */
  async function tempFiles(i: number): Promise<string> {
    const r = await fleet.ssh(
      i,
      "find /var/lib/hermes /etc/systemd/system /usr/local/bin -xdev -name '.hermes-fleet*' ! -name '.hermes-fleet.undo.*' 2>/dev/null || true",
    );
    return r.stdout.trim();
  }

  async function undoCopies(i: number): Promise<string> {
    const r = await fleet.ssh(
      i,
      "find /var/lib/hermes -xdev -name '.hermes-fleet.undo.*' 2>/dev/null || true",
    );
    return r.stdout.trim();
  }

  const hashes = async (i: number): Promise<Record<string, string>> =>
    Object.fromEntries(
      (await snapshot(fleet, i, FILES)).map((s: PathSnapshot) => [s.path, s.sha256]),
    );
  /** `hashes` of several hosts, by host number. */
  const hashesOf = async (hosts: readonly number[]): Promise<Map<number, Record<string, string>>> =>
    new Map(await Promise.all(hosts.map(async (i) => [i, await hashes(i)] as const)));

  /** OpenSSH's SHA256 fingerprint of the key in a known_hosts or .pub line. */
  function fingerprint(line: string): string {
    const fields = line.trim().split(/\s+/);
    const typeAt = fields.findIndex((f) => /^(ssh-|ecdsa-)/.test(f));
    const blob = fields[typeAt + 1] ?? '';
    const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
    return `SHA256:${digest.replace(/=+$/, '')}`;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hermes-fleet-ssh-e2e-'));
    home = join(work, 'home');
    mkdirSync(home, { mode: 0o700 });
    fleet = await bootFleet(HOSTS);
  });

  afterAll(() => {
    for (const agent of agents) agent.kill('SIGTERM');
    for (const i of frozen) freeze(i, false);
    // Test keys (one encrypted, one unencrypted) and inventories.
    rmSync(work, { recursive: true, force: true });
  });

  // --------------------------------------------------------------------------------------------
  // Host keys

  it('strict with an empty known_hosts refuses the host before logging in, and touches nothing', async () => {
    const knownHosts = writeFile('kh/empty', '');
    const before = await logins(1);
    const result = await cli([
      'run',
      '-i',
      inventory({ host1: harnessSsh({ host: addr(1), knownHosts }) }),
    ]);
    expect(result.code, result.all).toBe(4);
    expect(result.all).toContain(`no host key is known for ${addr(1)} in ${knownHosts}`);
    expect(result.all).toMatch(/hostKeyPolicy is strict/);
    expect(result.stdout).toMatch(/host1\s+: ok=0\s+changed=0\s+unreachable=1\s+failed=0/);
    expect(readFileSync(knownHosts, 'utf8')).toBe('');
    // One more login: the one that counts them. The CLI never got as far as authenticating.
    expect(await logins(1)).toBe(before + 1);
    expect(await fleet.stat(1, '/var/lib/hermes')).toBeNull();
  });

  let recorded = '';

  it('accept-new records the key it was offered; strict then accepts it', async () => {
    const knownHosts = writeFile('kh/accept-new', '');
    const result = await cli([
      'run',
      '--check',
      '-i',
      inventory({ host1: harnessSsh({ host: addr(1), knownHosts, hostKeyPolicy: 'accept-new' }) }),
    ]);
    expect(result.code, result.all).toBe(0);
    recorded = readFileSync(knownHosts, 'utf8');
    const hostKey = (await fleet.read(1, '/etc/ssh/ssh_host_ed25519_key.pub')) ?? '';
    const [type, blob] = hostKey.trim().split(/\s+/);
    expect(recorded).toBe(`${addr(1)} ${type} ${blob}\n`);

    const strict = await cli([
      'run',
      '--check',
      '-i',
      inventory({ host1: harnessSsh({ host: addr(1), knownHosts }) }),
    ]);
    expect(strict.code, strict.all).toBe(0);
    expect(readFileSync(knownHosts, 'utf8')).toBe(recorded);
  });

  it('reads known_hosts as OpenSSH writes it: hashed, several names, [host]:port, comments, markers', async () => {
    const [, type = '', blob = ''] = recorded.trim().split(/\s+/);
    const otherKey = sh(
      `ssh-keygen -q -t ed25519 -N '' -f ${shellQuote(join(work, 'other'))} && cat ${shellQuote(join(work, 'other.pub'))}`,
    )
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(' ');
    const variants: { name: string; text: string; ok: boolean; says?: RegExp }[] = [
      (() => {
        // ssh-keygen -H hashes a file in place, as HashKnownHosts does.
        const file = writeFile('kh/hashed', `${addr(1)} ${type} ${blob}\n`);
        sh(`ssh-keygen -q -H -f ${shellQuote(file)} && rm -f ${shellQuote(`${file}.old`)}`);
        return { name: 'hashed', text: readFileSync(file, 'utf8'), ok: true };
      })(),
      {
        name: 'names',
        text: `# managed by hand\n\nbox.example,${addr(1)},10.0.0.1 ${type} ${blob} root@box\n`,
        ok: true,
      },
      {
        // A key for another port is not a key for port 22.
        name: 'port',
        text: `[${addr(1)}]:2222 ${otherKey}\n${addr(1)} ${type} ${blob}\n`,
        ok: true,
      },
      {
        name: 'ca-only',
        text: `@cert-authority ${addr(1)} ${type} ${blob}\n`,
        ok: false,
        says: /no host key is known/,
      },
      {
        name: 'revoked',
        text: `${addr(1)} ${type} ${blob}\n@revoked ${addr(1)} ${type} ${blob}\n`,
        ok: false,
        says: /marked as revoked in .*revoked:2/,
      },
    ];
    for (const v of variants) {
      if (v.name === 'hashed') {
        expect(v.text).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
        expect(v.text).not.toContain(addr(1));
      }
      const knownHosts = writeFile(`kh/${v.name}`, v.text);
      const result = await cli([
        'run',
        '--check',
        '-i',
        inventory({ host1: harnessSsh({ host: addr(1), knownHosts }) }),
      ]);
      expect(result.code, `${v.name}: ${result.all}`).toBe(v.ok ? 0 : 4);
      if (v.says) expect(result.all, v.name).toMatch(v.says);
      expect(readFileSync(knownHosts, 'utf8'), v.name).toBe(v.text);
    }
  });

  it("refuses a host whose keys were regenerated, with OpenSSH's message: file, line, fingerprints, ssh-keygen -R", async () => {
    const knownHosts = writeFile('kh/changed', `# first line is a comment\n${recorded}`);
    const hashed = join(work, 'kh/hashed');
    const oldFingerprint = fingerprint(recorded);
    await fleet.reset(1);
    const newFingerprint = fingerprint(
      (await fleet.read(1, '/etc/ssh/ssh_host_ed25519_key.pub')) ?? '',
    );
    expect(newFingerprint).not.toBe(oldFingerprint);

    for (const policy of ['strict', 'accept-new'] as const) {
      const before = await logins(1);
      const result = await cli([
        'run',
        '-i',
        inventory({ host1: harnessSsh({ host: addr(1), knownHosts, hostKeyPolicy: policy }) }),
      ]);
      expect(result.code, result.all).toBe(4);
      expect(result.all).toContain(`REMOTE HOST IDENTIFICATION HAS CHANGED for ${addr(1)}`);
      expect(result.all).toContain(`Offending ED25519 key in ${knownHosts}:2`);
      expect(result.all).toContain(oldFingerprint);
      expect(result.all).toContain(newFingerprint);
      expect(result.all).toContain(`ssh-keygen -R ${addr(1)} -f ${knownHosts}`);
      expect(result.all).toContain('Host key verification failed.');
      expect(readFileSync(knownHosts, 'utf8')).toBe(`# first line is a comment\n${recorded}`);
      expect(await logins(1)).toBe(before + 1);
    }
    // The hashed entry is checked the same way, and named by its line.
    const viaHashed = await cli([
      'run',
      '--check',
      '-i',
      inventory({ host1: harnessSsh({ host: addr(1), knownHosts: hashed }) }),
    ]);
    expect(viaHashed.code, viaHashed.all).toBe(4);
    expect(viaHashed.all).toContain(`Offending ED25519 key in ${hashed}:1`);
    expect(await fleet.stat(1, '/var/lib/hermes')).toBeNull();

    // The fix the message gives works.
    sh(`ssh-keygen -R ${addr(1)} -f ${shellQuote(knownHosts)} >/dev/null 2>&1`);
    const fixed = await cli([
      'run',
      '--check',
      '-i',
      inventory({
        host1: harnessSsh({ host: addr(1), knownHosts, hostKeyPolicy: 'accept-new' }),
      }),
    ]);
    expect(fixed.code, fixed.all).toBe(0);
    expect(readFileSync(knownHosts, 'utf8')).toContain(`${addr(1)} ssh-ed25519 `);
  });

  it('off connects to any key and warns on every run, even without -v and with --json', async () => {
    const knownHosts = writeFile('kh/off', recorded); // the key from before the reset
    const inv = inventory({
      host1: harnessSsh({ host: addr(1), knownHosts, hostKeyPolicy: 'off' }),
    });
    for (const args of [
      ['run', '--check', '-i', inv],
      ['run', '--check', '--json', '-i', inv],
    ]) {
      const result = await cli(args);
      expect(result.code, result.all).toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(
          `warning: host1: host key checking is off for ${addr(1).replaceAll('.', '\\.')}`,
        ),
      );
    }
    expect(readFileSync(knownHosts, 'utf8')).toBe(recorded);
  });

  // --------------------------------------------------------------------------------------------
  // ssh config and authentication

  it('converges through an ssh config file: Host alias, HostName, User deploy with sudo, IdentityFile, Include', async () => {
    writeFile(
      'ssh/conf.d/app.conf',
      `Host app-server\n  HostName ${addr(2)}\n  User deploy\n  IdentityFile ${fleet.paths.key}\n`,
    );
    const config = writeFile(
      'ssh/config',
      `Include ${join(work, 'ssh/conf.d')}/*.conf\n\nHost *\n  UserKnownHostsFile ${fleet.paths.knownHosts}\n  StrictHostKeyChecking yes\n  ConnectTimeout 7\n`,
    );
    // The inventory says nothing about how to log in.
    const inv = inventory({ 'app-server': {} });
    const env = { HERMES_FLEET_SSH_CONFIG: config };
    const resolved = await cli(['inventory', '-i', inv], env);
    expect(resolved.code, resolved.all).toBe(0);

    const before = await fleet.ssh(2, 'journalctl --no-pager -o cat | wc -l');
    const result = await cli(['run', '--json', '-i', inv], env);
    expect(result.code, result.all).toBe(0);
    expect(hostOf(json(result), 'app-server').status).toBe('changed');
    expect(await fleet.standinRecord(2)).toMatchObject({ user: 'hermes' });
    const log = await fleet.ssh(
      2,
      `journalctl --no-pager -o cat | tail -n +${Number(before.stdout.trim()) + 1}`,
    );
    expect(log.stdout).toMatch(/Accepted publickey for deploy from/);
    expect(log.stdout).toMatch(/deploy : .*USER=root ; COMMAND=\/bin\/sh -c/);

    // A second run through the same config changes nothing.
    const again = await cli(['run', '--json', '-i', inv], env);
    expect(again.code, again.all).toBe(0);
    expect(hostOf(json(again), 'app-server').status).toBe('ok');
  });

  it('authenticates with the agent first, then identity files; encrypted keys via passphraseEnv; a clear error per host', async () => {
    const keyFile = join(work, 'enc_key');
    sh(`ssh-keygen -q -t ed25519 -N 'correct horse' -C e2e-encrypted -f ${shellQuote(keyFile)}`);
    const stranger = join(work, 'stranger_key');
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${shellQuote(stranger)}`);
    await fleet.ssh(2, 'cat >> /home/deploy/.ssh/authorized_keys', {
      input: readFileSync(`${keyFile}.pub`, 'utf8'),
    });
    const login = (identityFile: string, extra: object = {}) => ({
      host: addr(2),
      user: 'deploy',
      identityFile,
      knownHosts: fleet.paths.knownHosts,
      ...extra,
    });

    // One run, one host per case: each gets its own verdict.
    const inv = inventory({
      'no-passphrase': login(keyFile),
      'with-passphrase': login(keyFile, { passphraseEnv: 'E2E_KEY_PASSPHRASE' }),
      'wrong-passphrase': login(keyFile, { passphraseEnv: 'E2E_WRONG_PASSPHRASE' }),
      'unset-passphrase': login(keyFile, { passphraseEnv: 'E2E_UNSET_PASSPHRASE' }),
      'unknown-key': login(stranger),
      'root-not-deploy': { ...login(stranger), user: 'root' },
    });
    const env = {
      E2E_KEY_PASSPHRASE: 'correct horse',
      E2E_WRONG_PASSPHRASE: 'battery staple',
      E2E_UNSET_PASSPHRASE: undefined,
    };
    const result = await cli(['run', '--check', '--json', '-i', inv], env);
    expect(result.code, result.all).toBe(4);
    expect(result.all).not.toContain('correct horse');
    expect(result.all).not.toContain('battery staple');
    const r = json(result);
    expect(hostOf(r, 'with-passphrase').status).toMatch(/^(ok|changed)$/);
    const why = (name: string) => {
      const h = hostOf(r, name);
      expect(h.status, name).toBe('unreachable');
      return h.message ?? '';
    };
    expect(why('no-passphrase')).toMatch(
      /permission denied for user deploy.*encrypted and no passphrase: add it to ssh-agent/,
    );
    expect(why('wrong-passphrase')).toMatch(
      /cannot be decrypted with the passphrase in E2E_WRONG_PASSPHRASE/,
    );
    expect(why('unset-passphrase')).toMatch(
      /environment variable E2E_UNSET_PASSPHRASE .* is not set/,
    );
    expect(why('unknown-key')).toMatch(
      new RegExp(
        `deploy@${addr(2).replaceAll('.', '\\.')}:22: permission denied for user deploy; tried ${stranger}`,
      ),
    );
    expect(why('root-not-deploy')).toMatch(/permission denied for user root/);

    // The agent holds the decrypted key: no passphrase needed, and it is tried first.
    const socket = join(work, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    agents.push(agent);
    for (let n = 0; n < 50 && !existsSync(socket); n++)
      await new Promise((r) => setTimeout(r, 100));
    const askpass = writeFile('askpass.sh', "#!/bin/sh\necho 'correct horse'\n", 0o700);
    sh(`ssh-add ${shellQuote(keyFile)} </dev/null 2>/dev/null`, {
      SSH_AUTH_SOCK: socket,
      SSH_ASKPASS: askpass,
      SSH_ASKPASS_REQUIRE: 'force',
      DISPLAY: ':0',
    });
    const viaAgent = await cli(
      ['run', '--check', '--json', '-i', inventory({ 'via-agent': login(stranger) })],
      { SSH_AUTH_SOCK: socket },
    );
    expect(viaAgent.code, viaAgent.all).toBe(0);
    expect(hostOf(json(viaAgent), 'via-agent').status).toMatch(/^(ok|changed)$/);
    agent.kill('SIGTERM');
  });

  // --------------------------------------------------------------------------------------------
  // Bastions

  it('carries ten hosts behind a bastion (one of the test hosts) over one connection to it', async () => {
    const hosts: Record<string, object> = {};
    for (let i = 1; i <= 10; i++)
      hosts[`host${i}`] = harnessSsh({ host: addr(i), jump: `root@${addr(BASTION)}` });
    const run = startCli(['run', '-vv', '-i', inventory(hosts)]);
    const samples = await watchPeers(run.pid, run.done);
    const result = await run.done;
    expect(result.code, result.all).toBe(0);
    for (let i = 1; i <= 10; i++) {
      expect(result.stdout).toMatch(
        new RegExp(
          `^host${i}\\s+: ok=${TASK_NAMES.length}\\s+changed=\\d+\\s+unreachable=0\\s+failed=0`,
          'm',
        ),
      );
    }
    // The CLI's own TCP connections: never more than one, always to the bastion.
    expect(samples.some((s) => s.length > 0)).toBe(true);
    expect(Math.max(...samples.map((s) => s.length))).toBe(1);
    expect(new Set(samples.flat())).toEqual(new Set([`${addr(BASTION)}:22`]));
    expect(result.stderr).toMatch(/stats: hosts=10 connections=11 /);
    for (let i = 1; i <= 10; i++) {
      expect(await fleet.unit(i, 'hermes-agent.service')).toMatchObject({ active: 'active' });
    }
  });

  it('follows a chain of jumps from the ssh config (ProxyJump, Host patterns)', async () => {
    const config = writeFile(
      'ssh/chain',
      [
        `Host jump-a`,
        `  HostName ${addr(10)}`,
        `Host jump-b`,
        `  HostName ${addr(BASTION)}`,
        `  ProxyJump jump-a`,
        `Host inner-*`,
        `  ProxyJump jump-b`,
        `Host inner-1`,
        `  HostName ${addr(1)}`,
        `Host inner-2`,
        `  HostName ${addr(2)}`,
        `Host *`,
        `  User root`,
        `  IdentityFile ${fleet.paths.key}`,
        `  UserKnownHostsFile ${fleet.paths.knownHosts}`,
        ``,
      ].join('\n'),
    );
    const run = startCli(
      ['run', '--check', '-vv', '-i', inventory({ 'inner-1': {}, 'inner-2': {} })],
      {
        HERMES_FLEET_SSH_CONFIG: config,
      },
    );
    const samples = await watchPeers(run.pid, run.done);
    const result = await run.done;
    expect(result.code, result.all).toBe(0);
    expect(new Set(samples.flat())).toEqual(new Set([`${addr(10)}:22`]));
    // jump-a, jump-b (each once), and the two hosts.
    expect(result.stderr).toMatch(/stats: hosts=2 connections=4 /);
  });

  it('applies connectTimeout on every hop, retries a bounded number of times, and never hangs the others', async () => {
    const FROZEN = 7; // its sshd accepts TCP (the kernel does) but never says a word
    freeze(FROZEN, true);
    frozen.add(FROZEN);
    try {
      const inv = inventory(
        {
          'frozen-direct': harnessSsh({ host: addr(FROZEN) }),
          'behind-frozen-bastion': harnessSsh({ host: addr(8), jump: `root@${addr(FROZEN)}` }),
          'frozen-behind-bastion': harnessSsh({
            host: addr(FROZEN),
            jump: `root@${addr(BASTION)}`,
          }),
          fine: harnessSsh({ host: addr(9) }),
        },
        { ssh: { connectTimeout: 2 } },
      );
      const result = await cli(['run', '--check', '--json', '-i', inv]);
      expect(result.code, result.all).toBe(4);
      const r = json(result);
      expect(hostOf(r, 'fine').status).toBe('ok');
      for (const name of ['frozen-direct', 'behind-frozen-bastion', 'frozen-behind-bastion']) {
        const h = hostOf(r, name);
        expect(h.status, name).toBe('unreachable');
        expect(h.message, name).toMatch(/timed out.*\(gave up after 3 attempts in \d+\.\d s\)/);
      }
      expect(hostOf(r, 'behind-frozen-bastion').message).toMatch(/^bastion root@127/);
      // Three tries of 2 s each plus 1.25 s of backoff, with room for a loaded machine.
      expect(result.ms).toBeLessThan(30_000);
    } finally {
      freeze(FROZEN, false);
      frozen.delete(FROZEN);
    }
  });

  // --------------------------------------------------------------------------------------------
  // Hosts lost in the middle of a run

  it('reports hosts lost mid-run (sshd killed, power pulled, frozen) with their task, within bounded time; their files are old or new, never partial', async () => {
    const victims = { sshdKilled: 4, powerPulled: 5, frozen: 6 };
    const names = [3, 4, 5, 6];
    const big = (tag: string) => `${tag}\n${'x'.repeat(1 << 20)}\n`;
    const vars = (model: string, doc: string) => ({
      ssh: harnessSsh(),
      hermes: {
        settings: { model },
        documents: { 'BIG.md': { file: writeFile(`docs/${model}.md`, doc, 0o644) } },
        healthCheck: { seconds: 8 },
      },
    });
    const hosts = Object.fromEntries(names.map((i) => [`host${i}`, { host: addr(i) }]));
    const oldInv = inventory(hosts, vars('old', big('old')));
    const first = await cli(['run', '-i', oldInv]);
    expect(first.code, first.all).toBe(0);
    const old = await hashesOf(names);

    const newInv = inventory(hosts, vars('new', big('new')));
    const run = startCli(['run', '-v', '-i', newInv]);
    // Every victim is in its service task's 8 s health check: its files are all written.
    for (const i of Object.values(victims))
      await run.waitFor(new RegExp(`\\[host${i}\\] docs: changed`));
    const dropped = Date.now();
    await fleet.ssh(
      victims.sshdKilled,
      "setsid sh -c 'systemctl stop ssh.service; pkill -KILL -x sshd' </dev/null >/dev/null 2>&1 &",
    );
    writeFileSync(`${cgroupOf(victims.powerPulled)}/cgroup.kill`, '1');
    freeze(victims.frozen, true);
    frozen.add(victims.frozen);
    const result = await run.done;
    const afterDrop = Date.now() - dropped;
    freeze(victims.frozen, false);
    frozen.delete(victims.frozen);

    expect(result.code, result.all).toBe(2);
    // Keepalives: 5 s × 3 unanswered, then the host is given up on.
    expect(afterDrop).toBeLessThan(45_000);
    expect(result.stdout).toMatch(
      new RegExp(
        `^host3\\s+: ok=${TASK_NAMES.length}\\s+changed=\\d+\\s+unreachable=0\\s+failed=0`,
        'm',
      ),
    );
    for (const i of Object.values(victims)) {
      expect(result.stdout).toMatch(new RegExp(`^host${i}\\s+: .*failed=1`, 'm'));
      expect(result.stdout).toMatch(
        new RegExp(
          `^host${i}: failed in service: root@127\\.0\\.\\d+\\.${i}:22: connection lost`,
          'm',
        ),
      );
    }
    expect(result.stdout).toMatch(/host4: failed in service: .*the host closed the connection/);
    expect(result.stdout).toMatch(/host6: failed in service: .*no answer to 3 keepalives/);

    // Power back on (the pulled host boots from its disk as it was).
    fleetSh('reboot', String(victims.sshdKilled), String(victims.powerPulled));
    const mid = await hashesOf(names);
    for (const i of names) expect(await tempFiles(i), `host${i}`).toBe('');
    const converged = await cli(['run', '-i', newInv]);
    expect(converged.code, converged.all).toBe(0);
    for (const i of names) expect(await undoCopies(i), `host${i}`).toBe('');
    for (const i of names) {
      const now = await hashes(i);
      for (const file of FILES) {
        expect([old.get(i)?.[file], now[file]], `host${i} ${file}`).toContain(mid.get(i)?.[file]);
      }
    }
  });

  it('Ctrl-C during the apply on 10 hosts: no temp file, no half file, the recap, exit 130', async () => {
    const big = (tag: string) => `${tag}\n${'y'.repeat(4 << 20)}\n`;
    const vars = (model: string) => ({
      ssh: harnessSsh(),
      hermes: {
        settings: { model },
        documents: { 'BIG.md': { file: writeFile(`docs/int-${model}.md`, big(model), 0o644) } },
        healthCheck: { seconds: 5 },
      },
    });
    const all = Array.from({ length: HOSTS }, (_, k) => k + 1);
    const hosts = Object.fromEntries(all.map((i) => [`host${i}`, { host: addr(i) }]));
    const first = await cli([
      'run',
      '--limit',
      'all:!host11',
      '-i',
      inventory(hosts, vars('before')),
    ]);
    expect(first.code, first.all).toBe(0);
    const old = await hashesOf(all);

    // --forks 10: host11 waits for a free slot, so it shows that nothing new starts.
    const inv = inventory(hosts, vars('after'));
    const run = startCli(['run', '-v', '--forks', '10', '-i', inv]);
    for (let i = 1; i <= 10; i++) await run.waitFor(new RegExp(`\\[host${i}\\] applying`));
    const interrupted = Date.now();
    process.kill(run.pid, 'SIGINT');
    const result = await run.done;
    expect(result.code, result.all).toBe(130);
    expect(Date.now() - interrupted).toBeLessThan(60_000);
    expect(result.stdout).toContain('PLAY RECAP');
    for (const i of all) expect(result.stdout).toMatch(new RegExp(`^host${i}\\s+: ok=`, 'm'));
    expect(result.stdout).toMatch(
      /^host11\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=0\s+skipped=/m,
    );

    const mid = await hashesOf(all);
    for (const i of all) expect(await tempFiles(i), `host${i}`).toBe('');
    expect(mid.get(11)).toEqual(old.get(11));

    const converged = await cli(['run', '-i', inv]);
    expect(converged.code, converged.all).toBe(0);
    for (const i of all) {
      const now = await hashes(i);
      for (const file of FILES) {
        expect([old.get(i)?.[file], now[file]], `host${i} ${file}`).toContain(mid.get(i)?.[file]);
      }
    }
  });

  // --------------------------------------------------------------------------------------------
  // ulimit -n

  it('lowers --forks that the open-file limit cannot carry, with a warning, and fails when not one host fits', async () => {
    const all = Array.from({ length: HOSTS }, (_, k) => k + 1);
    const inv = inventory(
      Object.fromEntries(all.map((i) => [`host${i}`, harnessSsh({ host: addr(i) })])),
    );
    const under = (limit: number) =>
      new Promise<CliResult>((resolve) => {
        const child = spawn(
          '/bin/sh',
          [
            '-c',
            `ulimit -n ${limit} && exec "$0" "$@"`,
            process.execPath,
            BIN,
            'run',
            '--check',
            '--forks',
            '50',
            '-i',
            inv,
          ],
          { env: { ...process.env, NO_COLOR: '1', HOME: home, SSH_AUTH_SOCK: '' } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('close', (code) => {
          resolve({ code: code ?? -1, stdout, stderr, all: stdout + stderr });
        });
      });
    const tight = await under(44);
    expect(tight.code, tight.all).toBe(0);
    expect(tight.stderr).toMatch(
      /warning: --forks 50 would keep 11 connections open at once, but the open-file limit \(ulimit -n\) is 44 .*running \d hosts in parallel instead/,
    );
    for (const i of all)
      expect(tight.stdout).toMatch(new RegExp(`^host${i}\\s+: ok=${TASK_NAMES.length}`, 'm'));

    const hopeless = await under(30);
    expect(hopeless.code, hopeless.all).toBe(1);
    expect(hopeless.stderr).toMatch(/error: the open-file limit \(ulimit -n\) is 30, too low/);
    expect(hopeless.stdout).toBe('');
  });
});
