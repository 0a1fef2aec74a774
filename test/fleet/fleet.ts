// Real test hosts for e2e tests: boots them with fleet.sh (systemd-nspawn containers on this
// machine, sshd on 127.0.1.I:22) and reads their state back over the OpenSSH client.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { stringify } from 'yaml';

export const FLEET_SH = join(dirname(fileURLToPath(import.meta.url)), 'fleet.sh');

const cacheDir = process.env.FLEET_CACHE_DIR ?? '/var/cache/hermes-fleet-test';
/** FLEET_NET=K runs this process's fleet on 127.0.K.I (see fleet.sh); default 1. */
export const FLEET_NET = Number(process.env.FLEET_NET ?? '1');

/** Where fleet.sh keeps the client side of SSH (the same for every fleet on this machine). */
export const fleetPaths = {
  key: join(cacheDir, 'ssh', 'id_ed25519'),
  knownHosts: join(cacheDir, 'ssh', 'known_hosts'),
  sshConfig: join(cacheDir, 'ssh', FLEET_NET === 1 ? 'config' : `config-net${FLEET_NET}`),
} as const;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshOptions {
  /** Login user; default root. */
  user?: string;
  /** Written to the command's stdin. */
  input?: string;
  /** Default 120 s. */
  timeoutMs?: number;
}

export interface FileStat {
  /** Permission bits, e.g. 0o640 (with setuid/setgid/sticky when set). */
  mode: number;
  user: string;
  group: string;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  type: 'file' | 'directory' | 'symlink' | 'other';
}

export interface UnitState {
  /** ActiveState: active, inactive, failed, activating, … */
  active: string;
  /** UnitFileState: enabled, disabled, static, masked, … ('' when the unit does not exist). */
  enabled: string;
  /** '' when the unit never became active. */
  activeEnterTimestamp: string;
  /** 0 when no process runs. */
  mainPid: number;
  sub: string;
  load: string;
  nRestarts: number;
}

/** What the stand-in `hermes gateway` saw at start-up (test/fleet/stand-in-hermes.py). */
export interface StandinRecord {
  user: string | null;
  uid: number;
  gid: number;
  groups: number[];
  hermes_home: string | null;
  hermes_managed: string | null;
  messaging_cwd: string | null;
  home: string | null;
  cwd: string;
  /** The full argv, argv[0] included. */
  argv: string[];
  /** The arguments after `gateway`. */
  args: string[];
  /** Each variable loaded from HERMES_HOME/.env → sha256 hex of its value (null: no value). */
  env: Record<string, string | null>;
  /** Names of the process's own environment variables. */
  process_env_names: string[];
  config_sha256: string;
  config: Record<string, unknown>;
  started_at: string;
  pid: number;
}

/** The Debian suites fleet.sh can boot: 11, 12 (the default) and 13. */
export type DebianSuite = 'bullseye' | 'bookworm' | 'trixie';

/** Host index → its suite; hosts not named run bookworm. */
export type HostSuites = Readonly<Partial<Record<number, DebianSuite>>>;

export type FleetAvailability = { ok: true } | { ok: false; reason: string };

export interface Fleet {
  /** Hosts host1..host<size> are up. */
  readonly size: number;
  readonly paths: typeof fleetPaths;
  hostName(i: number): string;
  hostAddress(i: number): string;
  ssh(i: number, cmd: string, options?: SshOptions): Promise<ExecResult>;
  /** lstat of a path on host i; null when nothing is there. */
  stat(i: number, path: string): Promise<FileStat | null>;
  /** Content of a file on host i; null when it does not exist. */
  read(i: number, path: string): Promise<string | null>;
  /** Writes a file on host i as root (parent directories are made), for a test's set-up. */
  write(i: number, path: string, content: string, mode?: number): Promise<void>;
  unit(i: number, name: string): Promise<UnitState>;
  /** The stand-in gateway's record under `<stateDir>/.hermes`; null when there is none. */
  standinRecord(i: number, stateDir?: string): Promise<StandinRecord | null>;
  /** Wipes hosts back to the base image (new host keys) and boots them. */
  reset(...hosts: number[]): Promise<void>;
  /**
   * Imports a container image named `name` on host i made of the host's own root file system
   * (python3, python3-dotenv, python3-yaml, bash, coreutils, useradd, setpriv; no podman, no
   * /opt/hermes). Takes a few seconds.
   */
  importImage(i: number, name: string): Promise<void>;
  /** Powers every host off and unmounts their disks. */
  down(): Promise<void>;
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function run(
  file: string,
  args: readonly string[],
  options: { input?: string; timeoutMs: number; echoStderr?: boolean; env?: NodeJS.ProcessEnv },
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      if (options.echoStderr === true) process.stderr.write(chunk);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${options.timeoutMs} ms: ${file} ${args.join(' ')}`));
    }, options.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal === null ? 1 : 128),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** fleet.sh's FLEET_HOST_SUITES for these suites ("2=bullseye 3=trixie"). */
export function hostSuitesEnv(suites: HostSuites): string {
  return Object.entries(suites)
    .map(([i, suite]) => `${checkIndex(Number(i))}=${suite ?? 'bookworm'}`)
    .join(' ');
}

async function fleetSh(
  args: readonly string[],
  timeoutMs: number,
  suites: HostSuites = {},
): Promise<void> {
  const result = await run('bash', [FLEET_SH, ...args], {
    timeoutMs,
    echoStderr: true,
    env: { FLEET_HOST_SUITES: hostSuitesEnv(suites) },
  });
  if (result.code !== 0) {
    throw new Error(`fleet.sh ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}`);
  }
}

// ------------------------------------------------------------------------------------------
// Cleanup: hosts must never outlive the test process.

// Per process, not per module instance: vitest evaluates this module anew for every test file
// in the same worker process, and the exit handlers must be registered once.
interface CleanupState {
  fleetUp: boolean;
  registered: boolean;
}
const stateKey = Symbol.for('hermes-fleet-test/cleanup');
const state = ((globalThis as Record<symbol, CleanupState | undefined>)[stateKey] ??= {
  fleetUp: false,
  registered: false,
});

function downSync(): void {
  spawnSync('bash', [FLEET_SH, 'down'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
  state.fleetUp = false;
}

function registerCleanup(): void {
  if (state.registered) return;
  state.registered = true;
  process.once('exit', () => {
    if (state.fleetUp) downSync();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      if (state.fleetUp) downSync();
      process.exit(code);
    });
  }
}

async function downFleet(): Promise<void> {
  try {
    await fleetSh(['down'], 300_000);
  } finally {
    state.fleetUp = false;
  }
}

// ------------------------------------------------------------------------------------------

const BOOT_TIMEOUT_MS = 900_000; // a first boot builds the base image (about two minutes)

class SshFleet implements Fleet {
  readonly paths = fleetPaths;

  constructor(
    readonly size: number,
    private readonly suites: HostSuites = {},
  ) {}

  hostName(i: number): string {
    return `host${checkIndex(i)}`;
  }

  hostAddress(i: number): string {
    return `127.0.${FLEET_NET}.${checkIndex(i)}`;
  }

  ssh(i: number, cmd: string, options: SshOptions = {}): Promise<ExecResult> {
    const args = ['-F', fleetPaths.sshConfig];
    if (options.user !== undefined) args.push('-l', options.user);
    args.push(this.hostName(i), '--', cmd);
    return run('ssh', args, {
      ...(options.input === undefined ? {} : { input: options.input }),
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  }

  private async sshOk(i: number, cmd: string): Promise<string> {
    const result = await this.ssh(i, cmd);
    if (result.code !== 0) throw commandFailed(this.hostName(i), cmd, result);
    return result.stdout;
  }

  async stat(i: number, path: string): Promise<FileStat | null> {
    const p = shellQuote(path);
    const out = await this.sshOk(
      i,
      `if [ -e ${p} ] || [ -L ${p} ]; then stat -c '%a %U %G %s %Y %F' -- ${p}; else echo MISSING; fi`,
    );
    return parseStat(out);
  }

  async read(i: number, path: string): Promise<string | null> {
    const p = shellQuote(path);
    const cmd = `if [ -e ${p} ]; then cat -- ${p}; else exit 44; fi`;
    const result = await this.ssh(i, cmd);
    if (result.code === 44) return null;
    if (result.code !== 0) throw commandFailed(this.hostName(i), cmd, result);
    return result.stdout;
  }

  async write(i: number, path: string, content: string, mode = 0o644): Promise<void> {
    const p = shellQuote(path);
    const cmd = `mkdir -p -- "$(dirname -- ${p})" && cat > ${p} && chmod ${mode.toString(8)} -- ${p}`;
    const result = await this.ssh(i, cmd, { input: content });
    if (result.code !== 0) throw commandFailed(this.hostName(i), cmd, result);
  }

  async unit(i: number, name: string): Promise<UnitState> {
    const props =
      'LoadState,ActiveState,SubState,UnitFileState,ActiveEnterTimestamp,MainPID,NRestarts';
    return parseUnit(
      await this.sshOk(i, `systemctl show --property=${props} -- ${shellQuote(name)}`),
    );
  }

  async standinRecord(i: number, stateDir = '/var/lib/hermes'): Promise<StandinRecord | null> {
    const text = await this.read(i, `${stateDir}/.hermes/standin-record.json`);
    return text === null ? null : (JSON.parse(text) as StandinRecord);
  }

  async reset(...hosts: number[]): Promise<void> {
    if (hosts.length === 0) return;
    await fleetSh(
      ['reset', ...hosts.map((i) => String(checkIndex(i)))],
      BOOT_TIMEOUT_MS,
      this.suites,
    );
  }

  async importImage(i: number, name: string): Promise<void> {
    const excludes = [
      // not a file system of the host's disk, or the host's own container storage
      './proc',
      './sys',
      './dev',
      './run',
      './tmp',
      './var/tmp',
      './var/lib/containers',
      // not needed in a container, and large
      './var/cache',
      './var/log',
      './var/lib/apt',
      './usr/share/doc',
      './usr/share/man',
      './usr/share/locale',
      './usr/share/info',
      './usr/bin/podman',
      './usr/lib/cni',
      './usr/lib/podman',
      './usr/libexec/podman',
      // the deploy must bring these: an image that already has them would hide a missing mount
      './opt/hermes',
      './etc/ssh/ssh_host_*',
      './root/.ssh',
      './home/deploy/.ssh',
    ];
    const tar = `tar -C / --one-file-system ${excludes.map((e) => `--exclude=${shellQuote(e)}`).join(' ')} -cf - .`;
    const cmd = `set -o pipefail; ${tar} | podman import --change 'CMD ["/bin/bash"]' - ${shellQuote(name)} >/dev/null`;
    await this.sshOk(i, cmd);
  }

  down(): Promise<void> {
    return downFleet();
  }
}

function checkIndex(i: number): number {
  if (!Number.isInteger(i) || i < 1 || i > 254) throw new Error(`no test host ${i} (1..254)`);
  return i;
}

function commandFailed(host: string, cmd: string, result: ExecResult): Error {
  return new Error(`${host}: \`${cmd}\` failed (exit ${result.code}): ${result.stderr.trim()}`);
}

export function parseStat(out: string): FileStat | null {
  const line = out.trim();
  if (line === 'MISSING') return null;
  const match = /^([0-7]+) (\S+) (\S+) (\d+) (\d+) (.+)$/.exec(line);
  if (match === null) throw new Error(`unexpected stat output: ${JSON.stringify(out)}`);
  const [, mode = '', user = '', group = '', size = '', mtime = '', kind = ''] = match;
  const type = kind.startsWith('regular')
    ? 'file'
    : kind === 'directory'
      ? 'directory'
      : kind === 'symbolic link'
        ? 'symlink'
        : 'other';
  return { mode: parseInt(mode, 8), user, group, size: Number(size), mtime: Number(mtime), type };
}

export function parseUnit(out: string): UnitState {
  const props = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return {
    active: props.get('ActiveState') ?? '',
    enabled: props.get('UnitFileState') ?? '',
    activeEnterTimestamp: props.get('ActiveEnterTimestamp') ?? '',
    mainPid: Number(props.get('MainPID') ?? 0),
    sub: props.get('SubState') ?? '',
    load: props.get('LoadState') ?? '',
    nRestarts: Number(props.get('NRestarts') ?? 0),
  };
}

/**
 * Boots host1..host<n> and waits until each answers SSH with a finished boot. With `fresh` (the
 * default) every host starts from the clean base image, so test files do not see each other's
 * hosts; `fresh: false` keeps hosts that are already up as they are. `suites` boots the hosts it
 * names from another Debian suite's image (built on first use, a few minutes); the rest run
 * bookworm.
 */
export async function bootFleet(
  n: number,
  options: { fresh?: boolean; suites?: HostSuites } = {},
): Promise<Fleet> {
  checkIndex(n);
  const availability = fleetAvailability();
  if (!availability.ok) throw new Error(`the test fleet is not available: ${availability.reason}`);
  registerCleanup();
  state.fleetUp = true; // even a failed boot may leave hosts half up
  await fleetSh(
    ['up', String(n), ...(options.fresh === false ? [] : ['--fresh'])],
    BOOT_TIMEOUT_MS,
    options.suites,
  );
  return new SshFleet(n, options.suites);
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Whether this machine can boot the test fleet, and why not. */
export function fleetAvailability(): FleetAvailability {
  if (process.platform !== 'linux') {
    return {
      ok: false,
      reason: `test hosts need Linux (systemd-nspawn); this is ${process.platform}`,
    };
  }
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: 'test hosts need root (overlay mounts, systemd-nspawn)' };
  }
  let filesystems = '';
  try {
    filesystems = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    // reported below
  }
  if (!/\toverlay$/m.test(filesystems)) {
    return { ok: false, reason: 'the kernel has no overlay file system' };
  }
  if (!onPath('systemd-nspawn') && !onPath('apt-get')) {
    return { ok: false, reason: 'no systemd-nspawn, and no apt-get to install systemd-container' };
  }
  return { ok: true };
}

/**
 * `describe` for suites that need the fleet. Without a fleet the suite is skipped with a loud
 * reason on stderr, or fails when HERMES_FLEET_E2E=required (as in CI). Hosts this process
 * booted are powered off after the suite.
 */
export function describeFleet(name: string, fn: () => void): void {
  const availability = fleetAvailability();
  if (availability.ok) {
    describe(name, () => {
      afterAll(async () => {
        if (state.fleetUp) await downFleet();
      });
      fn();
    });
    return;
  }
  if (process.env.HERMES_FLEET_E2E === 'required') {
    describe(name, () => {
      it('has the test fleet (HERMES_FLEET_E2E=required)', () => {
        throw new Error(`HERMES_FLEET_E2E=required, but ${availability.reason}`);
      });
    });
    return;
  }
  const bar = '!'.repeat(78);
  process.stderr.write(
    `\n${bar}\n!! SKIPPED "${name}": ${availability.reason}\n` +
      `!! These end-to-end tests need real test hosts; set HERMES_FLEET_E2E=required to fail instead.\n${bar}\n\n`,
  );
  describe.skip(name, fn);
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Plain, extra: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlain(current) && isPlain(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * Writes an inventory for host1..host<n> (root over SSH with the harness's key and known_hosts)
 * into a new temporary directory and returns the file's path. `extra` is deep-merged into the
 * document, e.g. `{ all: { vars: { hermes: { settings: { model: 'x' } } } } }`; files that the
 * inventory names by relative path can be written beside it.
 */
export function writeFleetInventory(n: number, extra: object = {}): string {
  checkIndex(n);
  const hosts: Plain = {};
  for (let i = 1; i <= n; i++) hosts[`host${i}`] = { ssh: { host: `127.0.${FLEET_NET}.${i}` } };
  const doc = deepMerge(
    {
      all: {
        vars: {
          ssh: { user: 'root', identityFile: fleetPaths.key, knownHosts: fleetPaths.knownHosts },
        },
        hosts,
      },
    },
    extra as Plain,
  );
  const dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-inventory-'));
  const file = join(dir, 'hosts.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}
