// Runs the real, built CLI (bin/hermes-fleet → dist/) as a person or a CI job would.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fleet } from '../fleet/fleet.js';
import { shellQuote } from '../fleet/fleet.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'hermes-fleet');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "appears nowhere" assertions. */
  all: string;
}

export function runCli(
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    onSpawn?: (pid: number) => void;
    /** Another build's bin/hermes-fleet (an older release's, say); default this one's. */
    bin?: string;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, all: stdout + stderr });
    });
  });
}

/** Runs the CLI and SIGKILLs it `delayMs` after its plain output satisfies `when`. */
export function runAndKill(
  args: readonly string[],
  when: (out: string) => boolean,
  delayMs = 0,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let armed = false;
    const check = () => {
      if (armed || !when(out)) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    check();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      check();
    });
    child.on('error', reject);
    child.on('close', () => {
      resolve(out);
    });
  });
}

/** The CLI started in the background, for what is watched while it runs (logs -f, Ctrl-C). */
export interface StartedCli {
  pid: number;
  child: ChildProcess;
  /**
   * Resolves once stdout + stderr match `pattern`; rejects when the CLI exits first, or, given
   * `timeoutMs` (or startCli's `waitTimeoutMs`), when that passes first.
   */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The result once it exits, and how long it ran. */
  done: Promise<CliResult & { ms: number }>;
}

export function startCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; waitTimeoutMs?: number } = {},
): StartedCli {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pattern.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    check();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const done = new Promise<CliResult & { ms: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, all: stdout + stderr, ms: Date.now() - started });
    });
  });
  return {
    pid: child.pid ?? -1,
    child,
    done,
    waitFor: (pattern, timeoutMs = options.waitTimeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const t =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                reject(new Error(`no ${String(pattern)} in the CLI's output:\n${stdout}${stderr}`));
              }, timeoutMs);
        const entry = {
          pattern,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        };
        waiters.push(entry);
        check();
        void done.then(() => {
          if (waiters.includes(entry)) {
            clearTimeout(t);
            reject(new Error(`the CLI exited before ${String(pattern)}:\n${stdout}${stderr}`));
          }
        });
      }),
  };
}

export interface PathSnapshot {
  path: string;
  inode: string;
  mode: string;
  owner: string;
  mtime: string;
  sha256: string;
}

/**
 * Inode, mode, owner, mtime (ns) and content hash of each path: an atomic rewrite changes the
 * inode even within the same second, so equal snapshots mean nothing was rewritten.
 */
export async function snapshot(
  fleet: Fleet,
  i: number,
  paths: readonly string[],
): Promise<PathSnapshot[]> {
  const script = paths
    .map(
      (p) =>
        `if [ -e ${shellQuote(p)} ]; then printf '%s|%s|' ${shellQuote(p)} "$(stat -c '%i|%a|%U:%G|%.9Y' -- ${shellQuote(p)})"; ` +
        `if [ -f ${shellQuote(p)} ]; then sha256sum < ${shellQuote(p)} | cut -d' ' -f1; else echo dir; fi; ` +
        `else echo ${shellQuote(p)}'|absent||||'; fi`,
    )
    .join('\n');
  const result = await fleet.ssh(i, script);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [path = '', inode = '', mode = '', owner = '', mtime = '', sha256 = ''] =
        line.split('|');
      return { path, inode, mode, owner, mtime, sha256 };
    });
}

/** The directories the dirs task makes on a default host, in its order. */
export const MANAGED_DIRS = [
  '/var/lib/hermes',
  '/var/lib/hermes/.hermes',
  '/var/lib/hermes/home',
  '/var/lib/hermes/workspace',
  '/var/lib/hermes/.hermes/cron',
  '/var/lib/hermes/.hermes/sessions',
  '/var/lib/hermes/.hermes/logs',
  '/var/lib/hermes/.hermes/memories',
  '/var/lib/hermes/.hermes/plugins',
] as const;

export const MANAGED_PATHS = [
  ...MANAGED_DIRS,
  '/var/lib/hermes/.hermes/config.yaml',
  '/var/lib/hermes/.hermes/.managed',
  '/var/lib/hermes/.hermes/.env',
  '/etc/systemd/system/hermes-agent.service',
] as const;
