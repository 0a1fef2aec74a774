// Integration test against a real OpenSSH sshd on 127.0.0.1 (started here, in a temp dir, on a
// free high port). It needs root (sshd logs in as the user it runs as) and /usr/sbin/sshd.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pooledHopCount } from './bastion-pool.js';
import { connect, type Connection } from './connection.js';
import { ConnectionLostError, UnreachableError } from './ssh-errors.js';
import { fingerprintSha256 } from './known-hosts.js';
import { commandLine } from '../exec/quote.js';
import type { SshTarget } from './ssh-target.js';

const SSHD = '/usr/sbin/sshd';
const isRoot = process.getuid?.() === 0;
const canRun = isRoot && existsSync(SSHD);
if (!canRun) {
  console.warn(
    `\n!!!! SKIPPED the real-sshd transport tests: ${isRoot ? `no ${SSHD}` : 'not root'}; ` +
      'they need root and openssh-server (npm test installs it when run as root) !!!!\n',
  );
}

let dir = '';
let port = 0;
let sshd: ChildProcess | undefined;
let agent: ChildProcess | undefined;
let sshdLog = '';
let hostKeyLine = '';
let clientKey = '';
let encryptedKey = '';
let strangerKey = '';
let agentSocket = '';
const PASSPHRASE_ENV = 'HERMES_FLEET_TEST_KEY_PASSPHRASE';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const found = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(found);
      });
    });
  });
}

async function waitForPort(target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(target, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`sshd did not listen on ${target}: ${sshdLog}`);
}

function keygen(file: string, passphrase = ''): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'test', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

function knownHostsWith(line: string): string {
  const file = join(mkdtempSync(join(dir, 'kh-')), 'known_hosts');
  writeFileSync(file, line === '' ? '' : `${line}\n`);
  return file;
}

function target(overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    name: 'local',
    host: '127.0.0.1',
    port,
    user: 'root',
    identityFiles: [clientKey],
    become: 'none',
    connectTimeout: 5,
    knownHosts: knownHostsWith(`[127.0.0.1]:${port} ${hostKeyLine}`),
    hostKeyPolicy: 'strict',
    jump: [],
    warnings: [],
    ...overrides,
  };
}

function tcpSocketCount(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

async function expectUnreachable(
  promise: Promise<unknown>,
  reason: string,
): Promise<UnreachableError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UnreachableError);
  expect((error as UnreachableError).reason, (error as Error).message).toBe(reason);
  return error as UnreachableError;
}

beforeAll(async () => {
  if (!canRun) return;
  Reflect.deleteProperty(process.env, 'SSH_AUTH_SOCK');
  dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-sshd-'));
  port = await freePort();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  hostKeyLine = keygen(join(dir, 'host_ed25519')).split(' ').slice(0, 2).join(' ');
  clientKey = join(dir, 'client_ed25519');
  encryptedKey = join(dir, 'client_encrypted');
  strangerKey = join(dir, 'stranger');
  const authorized = [keygen(clientKey), keygen(encryptedKey, 'correct horse')];
  keygen(strangerKey);
  writeFileSync(join(dir, 'authorized_keys'), `${authorized.join('\n')}\n`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'AllowTcpForwarding yes',
      'MaxStartups 100',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr?.on('data', (chunk: Buffer) => {
    sshdLog += chunk.toString();
  });
  await waitForPort(port, 5000);

  agentSocket = join(dir, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(agentSocket); i += 1) await sleep(20);
  execFileSync('ssh-add', ['-q', clientKey], {
    env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
    stdio: 'ignore',
  });
}, 30_000);

afterAll(async () => {
  const exited = [sshd, agent].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
        else
          child.once('exit', () => {
            resolve();
          });
      }),
  );
  sshd?.kill();
  agent?.kill();
  await Promise.all(exited);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

// sshd here forks every session slowly (~0.2 s, the same with OpenSSH's client): generous timeouts.
describe.skipIf(!canRun)('connection to a real sshd', { timeout: 60_000 }, () => {
  let shared: Connection;

  beforeAll(async () => {
    shared = await connect(target());
  });
  afterAll(() => {
    shared.close();
  });

  it('runs commands: exit codes, stdout and stderr apart, stdin then EOF', async () => {
    const ok = await shared.exec('echo out; echo err >&2; exit 3');
    expect(ok.exitCode).toBe(3);
    expect(ok.stdout.toString()).toBe('out\n');
    expect(ok.stderr.toString()).toBe('err\n');
    expect(ok.timedOut).toBe(false);
    expect(ok.durationMs).toBeGreaterThan(0);

    const noStdin = await shared.exec('cat; echo done');
    expect(noStdin.stdout.toString()).toBe('done\n');

    const text = await shared.exec(commandLine(['sh', '-c', 'tr a-z A-Z']), { stdin: 'hello\n' });
    expect(text.stdout.toString()).toBe('HELLO\n');
  });

  it('round-trips 1 MiB of binary through cat, byte for byte', async () => {
    const data = randomBytes(1024 * 1024);
    const chunks: Buffer[] = [];
    const result = await shared.exec('cat', {
      stdin: data,
      onStdout: (chunk) => {
        chunks.push(chunk);
      },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.equals(data)).toBe(true);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('streams stderr as it arrives, and keeps no output when told not to', async () => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const result = await shared.exec('echo one; echo two >&2; echo three', {
      onStdout: (chunk) => out.push(chunk),
      onStderr: (chunk) => err.push(chunk),
      keepOutput: false,
    });
    expect(result.exitCode).toBe(0);
    expect(Buffer.concat(out).toString()).toBe('one\nthree\n');
    expect(Buffer.concat(err).toString()).toBe('two\n');
    expect(result.stdout.length + result.stderr.length).toBe(0);
  });

  it('fails only the command whose onStdout throws, and ignores unread stdin', async () => {
    const failing = shared.exec('echo boom; sleep 5', {
      onStdout: () => {
        throw new Error('callback broke');
      },
    });
    await expect(failing).rejects.toThrow('callback broke');
    const unread = await shared.exec('exit 0', { stdin: randomBytes(4 * 1024 * 1024) });
    expect(unread.exitCode).toBe(0);
    expect((await shared.exec('echo fine')).stdout.toString()).toBe('fine\n');
  });

  it('reports death by signal', async () => {
    const result = await shared.exec('kill -TERM $$');
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBe('SIGTERM');
  });

  it('kills a command that outlives its timeout', async () => {
    const started = Date.now();
    const result = await shared.exec('echo started; sleep 30', { timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000);
    // The connection stays usable.
    expect((await shared.exec('echo still here')).stdout.toString()).toBe('still here\n');
  });

  it('aborts a command on signal', async () => {
    const controller = new AbortController();
    const pending = shared.exec('sleep 30', { signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 200);
    await expect(pending).rejects.toThrow(/aborted/);
  });

  it('runs 30 commands at once within sshd MaxSessions, and counts round trips and channels', async () => {
    const connection = await connect(target());
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) => connection.exec(`sleep 0.1; echo ${index}`)),
    );
    expect(results.map((result) => result.stdout.toString())).toEqual(
      Array.from({ length: 30 }, (_, index) => `${index}\n`),
    );
    expect(connection.stats).toEqual({ roundTrips: 30, channels: 30, connections: 1 });
    connection.close();
  });

  it('rejects in-flight commands with ConnectionLostError when the connection drops', async () => {
    const connection = await connect(target());
    // The shell's parent is sshd's process for this connection: killing it drops the connection.
    const lost = connection.exec('kill -9 $PPID; sleep 30');
    const queued = Array.from({ length: 10 }, () => connection.exec('sleep 30'));
    await expect(lost).rejects.toBeInstanceOf(ConnectionLostError);
    for (const pending of queued) await expect(pending).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(connection.exec('true')).rejects.toBeInstanceOf(ConnectionLostError);
    connection.close();
  });

  it('detects a silent peer by keepalive and fails the command instead of hanging', async () => {
    const connection = await connect(target());
    const sessionProcess = Number((await connection.exec('echo $PPID')).stdout.toString().trim());
    const started = Date.now();
    // A frozen server process answers nothing, like a host that vanished from the network.
    const pending = connection.exec(`kill -STOP ${sessionProcess}; sleep 60`);
    try {
      await expect(pending).rejects.toBeInstanceOf(ConnectionLostError);
      // keepaliveInterval 5 s × keepaliveCountMax 3, plus one interval of slack.
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      try {
        process.kill(sessionProcess, 'SIGKILL');
      } catch {
        /* already gone */
      }
      connection.close();
    }
  });

  it('closes idempotently and refuses commands afterwards', async () => {
    const connection = await connect(target());
    const inFlight = connection.exec('sleep 30');
    connection.close();
    connection.close();
    await expect(inFlight).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(connection.exec('true')).rejects.toThrow(/closed/);
  });
});

describe.skipIf(!canRun)('host keys against a real sshd', { timeout: 30_000 }, () => {
  it('strict: refuses an unknown host, naming the fingerprint', async () => {
    const error = await expectUnreachable(
      connect(target({ knownHosts: knownHostsWith('') })),
      'hostkey',
    );
    const offered = Buffer.from(hostKeyLine.split(' ')[1] ?? '', 'base64');
    expect(error.message).toContain(fingerprintSha256(offered));
    expect(error.message).toContain(`[127.0.0.1]:${port}`);
  });

  it('accept-new: records the key, then strict accepts it', async () => {
    const knownHosts = knownHostsWith('');
    const first = await connect(target({ knownHosts, hostKeyPolicy: 'accept-new' }));
    first.close();
    expect(readFileSync(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${port} ${hostKeyLine}\n`);
    const second = await connect(target({ knownHosts }));
    second.close();
  });

  it('refuses a changed key under strict and accept-new', async () => {
    const other = readFileSync(`${strangerKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const knownHosts = knownHostsWith(`[127.0.0.1]:${port} ${other}`);
    for (const hostKeyPolicy of ['strict', 'accept-new'] as const) {
      const error = await expectUnreachable(
        connect(target({ knownHosts, hostKeyPolicy })),
        'hostkey',
      );
      expect(error.message).toMatch(/CHANGED/);
      expect(error.message).toContain(`${knownHosts}:1`);
      expect(error.message).toContain('ssh-keygen -R');
    }
  });

  it('off: connects and warns', async () => {
    const connection = await connect(
      target({ knownHosts: knownHostsWith(''), hostKeyPolicy: 'off' }),
    );
    expect(connection.warnings.join('\n')).toMatch(/host key checking is off/);
    connection.close();
  });
});

describe.skipIf(!canRun)('login', { timeout: 30_000 }, () => {
  it('fails with a per-host message naming the user and the keys tried', async () => {
    const error = await expectUnreachable(
      connect(target({ identityFiles: [strangerKey] })),
      'auth',
    );
    expect(error.message).toContain('permission denied for user root');
    expect(error.message).toContain(strangerKey);
    expect(error.message).toContain('127.0.0.1');
  });

  it('explains an encrypted key without a passphrase, and uses one from passphraseEnv', async () => {
    const error = await expectUnreachable(
      connect(target({ identityFiles: [encryptedKey] })),
      'auth',
    );
    expect(error.message).toMatch(/encrypted and no passphrase/);
    process.env[PASSPHRASE_ENV] = 'correct horse';
    try {
      const connection = await connect(
        target({ identityFiles: [encryptedKey], passphraseEnv: PASSPHRASE_ENV }),
      );
      expect((await connection.exec('echo hi')).stdout.toString()).toBe('hi\n');
      connection.close();
    } finally {
      Reflect.deleteProperty(process.env, PASSPHRASE_ENV);
    }
    const message = (
      await expectUnreachable(
        connect(
          target({ identityFiles: [encryptedKey], passphraseEnv: 'HERMES_FLEET_TEST_UNSET_VAR' }),
        ),
        'auth',
      )
    ).message;
    expect(message).toContain('HERMES_FLEET_TEST_UNSET_VAR');
    expect(message).not.toContain('correct horse');
  });

  it('logs in through ssh-agent first', async () => {
    process.env.SSH_AUTH_SOCK = agentSocket;
    try {
      const connection = await connect(target({ identityFiles: [] }));
      expect((await connection.exec('whoami')).stdout.toString()).toBe('root\n');
      connection.close();
      const error = await expectUnreachable(
        connect(target({ identityFiles: [], user: 'nobody' })),
        'auth',
      );
      expect(error.message).toContain('ssh-agent');
    } finally {
      Reflect.deleteProperty(process.env, 'SSH_AUTH_SOCK');
    }
  });
});

describe.skipIf(!canRun)('unreachable hosts', { timeout: 30_000 }, () => {
  it('reports a refused port quickly, after the retries', async () => {
    const closed = await freePort();
    const started = Date.now();
    await expectUnreachable(connect(target({ port: closed }), { retries: 0 }), 'refused');
    expect(Date.now() - started).toBeLessThan(1000);
    const withRetries = Date.now();
    await expectUnreachable(connect(target({ port: closed })), 'refused');
    const elapsed = Date.now() - withRetries;
    expect(elapsed).toBeGreaterThanOrEqual(1200);
    expect(elapsed).toBeLessThan(4000);
  });

  it('times out on a server that never speaks SSH, without leaking sockets', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const silentPort = typeof address === 'object' && address ? address.port : 0;
    const before = tcpSocketCount();
    const started = Date.now();
    await expectUnreachable(
      connect(target({ port: silentPort, connectTimeout: 1 }), { retries: 0 }),
      'timeout',
    );
    expect(Date.now() - started).toBeLessThan(3000);
    await sleep(100);
    expect(tcpSocketCount()).toBeLessThanOrEqual(before);
    silent.close();
  });

  it('reports an unknown name as dns', async () => {
    await expectUnreachable(
      connect(target({ host: 'no-such-host.invalid' }), { retries: 0 }),
      'dns',
    );
  });

  it('does not leak sockets when login fails', async () => {
    await sleep(200);
    const before = tcpSocketCount();
    for (let i = 0; i < 3; i += 1) {
      await expectUnreachable(connect(target({ identityFiles: [strangerKey] })), 'auth');
      await expectUnreachable(connect(target({ knownHosts: knownHostsWith('') })), 'hostkey');
    }
    await sleep(100);
    expect(tcpSocketCount()).toBeLessThanOrEqual(before);
  });

  it('stops on abort while connecting', async () => {
    const controller = new AbortController();
    const closed = await freePort();
    const pending = connect(target({ port: closed }), { signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 100);
    await expect(pending).rejects.toThrow(/abort/);
  });
});

describe.skipIf(!canRun)('bastions', { timeout: 30_000 }, () => {
  it('carries every host behind a bastion over one bastion connection', async () => {
    // The local sshd is its own bastion: it forwards to itself.
    const bastion = { host: '127.0.0.1', port, user: 'root', identityFiles: [clientKey] };
    const knownHosts = knownHostsWith(`[127.0.0.1]:${port} ${hostKeyLine}`);
    const connections = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        connect(target({ name: `h${index}`, jump: [bastion], knownHosts })),
      ),
    );
    expect(pooledHopCount()).toBe(1);
    const outputs = await Promise.all(connections.map((connection) => connection.exec('echo via')));
    expect(outputs.every((result) => result.stdout.toString() === 'via\n')).toBe(true);
    const physical = connections.reduce((sum, connection) => sum + connection.stats.connections, 0);
    expect(physical).toBe(6);
    for (const connection of connections) connection.close();
    await sleep(200);
    expect(pooledHopCount()).toBe(0);
  });

  it('goes through a chain of two bastions', async () => {
    const hop = { host: '127.0.0.1', port, user: 'root', identityFiles: [clientKey] };
    const connection = await connect(target({ jump: [hop, { ...hop, host: 'localhost' }] })).catch(
      (error: unknown) => error,
    );
    // `localhost` is not in known_hosts: the second hop fails its host key check, by name.
    expect(connection).toBeInstanceOf(UnreachableError);
    expect((connection as UnreachableError).reason).toBe('hostkey');
    expect((connection as UnreachableError).message).toContain('bastion root@localhost');
    const knownHosts = knownHostsWith(`[127.0.0.1]:${port},[localhost]:${port} ${hostKeyLine}`);
    const chained = await connect(
      target({ jump: [hop, { ...hop, host: 'localhost' }], knownHosts }),
    );
    expect(chained.stats.connections).toBe(3);
    expect((await chained.exec('echo deep')).stdout.toString()).toBe('deep\n');
    chained.close();
    await sleep(200);
    expect(pooledHopCount()).toBe(0);
  });

  it('reports a refused port behind the bastion', async () => {
    const hop = { host: '127.0.0.1', port, user: 'root', identityFiles: [clientKey] };
    const closed = await freePort();
    await expectUnreachable(
      connect(target({ jump: [hop], port: closed }), { retries: 0 }),
      'refused',
    );
    await sleep(100);
    expect(pooledHopCount()).toBe(0);
  });
});
