import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import { Secret } from '../secret.js';
import type { Origin } from './layer.js';
import { ArchiveProblem } from './archive-file.js';
import { inspectImageArchive } from './image-archive.js';
import { inspectArchive } from './release-archive.js';
import { packPlugin } from './plugin-archive.js';
import { downloadOnController, releaseDownload, shownUrl } from './release-download.js';
import type { ImageArchive, PluginSource, ReleaseArchive, ReleaseSource } from './types.js';
import { describeFsError } from './yaml-source.js';

/** `~` and `~/x` mean the home directory, as in a shell; anything else is relative to `dir`. */
export function resolveLocalPath(dir: string, written: string): string {
  if (written === '~') return os.homedir();
  if (written.startsWith('~/')) return path.join(os.homedir(), written.slice(2));
  return path.resolve(dir, written);
}

/** Only what a reference needs: the text it was written with and where. */
export type SecretRef = { env: string } | { file: string } | { command: string };

/**
 * Reads local files and evaluates secret references on the control machine, each once: a
 * secret shared by a hundred hosts runs its command (e.g. `sops -d`) a single time.
 */
/** What `make` gives for `key`, made once however many hosts ask for it. */
function once<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let pending = cache.get(key);
  if (!pending) {
    pending = make();
    cache.set(key, pending);
  }
  return pending;
}

/** An archive that cannot be used, as the inventory's error at the key that names it. */
function archiveError(what: string, written: string, file: string, origin: Origin) {
  return (err: unknown): never => {
    const why = err instanceof ArchiveProblem ? err.message : describeFsError(err);
    throw new UserError(`cannot use the ${what} ${written} (${file}): ${why}`, origin.location);
  };
}

export class LocalReader {
  readonly #texts = new Map<string, Promise<string>>();
  readonly #secrets = new Map<string, Promise<Secret>>();
  readonly #archives = new Map<string, Promise<ReleaseArchive>>();
  readonly #downloads = new Map<string, Promise<ReleaseSource>>();
  readonly #images = new Map<string, Promise<ImageArchive>>();
  readonly #plugins = new Map<string, Promise<PluginSource>>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly resolveSecrets = true,
    /** `--release-from-controller`: a release `url` is downloaded here and uploaded. */
    private readonly releaseFromController = false,
  ) {}

  /** A non-secret local file (a document, a configFile). */
  text(written: string, origin: Origin): Promise<string> {
    const file = resolveLocalPath(origin.dir, written);
    return once(this.#texts, file, () =>
      readFile(file, 'utf8').catch((err: unknown) => {
        throw new UserError(
          `cannot read ${written} (${file}): ${describeFsError(err)}`,
          origin.location,
        );
      }),
    );
  }

  /** A plugin directory or archive, packed once per file and name however many hosts name it. */
  plugin(written: string, name: string, origin: Origin): Promise<PluginSource> {
    const file = resolveLocalPath(origin.dir, written);
    return once(this.#plugins, `${file}\0${name}`, () =>
      packPlugin(file, written, name).catch(archiveError('plugin', written, file, origin)),
    );
  }

  /** A release archive, inspected once however many hosts name it (release-archive.ts). */
  releaseArchive(written: string, origin: Origin): Promise<ReleaseArchive> {
    const file = resolveLocalPath(origin.dir, written);
    return once(this.#archives, file, () =>
      inspectArchive(file, written).catch(archiveError('release archive', written, file, origin)),
    );
  }

  /**
   * A release at `url` with its `sha256`: what the hosts download themselves, or, with
   * `releaseFromController`, the file downloaded here once and checked, uploaded as an archive.
   */
  releaseDownload(url: string, sha256: string, origin: Origin): Promise<ReleaseSource> {
    const written = shownUrl(url);
    return once(this.#downloads, `${url}\0${sha256}`, () =>
      (this.releaseFromController
        ? downloadOnController(url, sha256)
        : Promise.resolve().then(() => releaseDownload(url, sha256))
      ).catch((err: unknown) => {
        const why = err instanceof ArchiveProblem ? err.message : describeFsError(err);
        throw new UserError(`cannot use the release ${written}: ${why}`, origin.location);
      }),
    );
  }

  /** A container image archive, inspected once however many hosts name it (image-archive.ts). */
  imageArchive(written: string, origin: Origin): Promise<ImageArchive> {
    const file = resolveLocalPath(origin.dir, written);
    return once(this.#images, file, () =>
      inspectImageArchive(file, written).catch(
        archiveError('image archive', written, file, origin),
      ),
    );
  }

  /**
   * The secret a reference names. Without `resolveSecrets` nothing is evaluated: the result
   * carries its source and an empty value.
   */
  secret(ref: SecretRef, origin: Origin): Promise<Secret> {
    const source = describeRef(ref);
    if (!this.resolveSecrets) return Promise.resolve(new Secret('', source));
    const key = `${origin.dir}\0${source}`;
    let pending = this.#secrets.get(key);
    if (!pending) {
      pending = this.#evaluate(ref, origin).then((value) => {
        // An empty secret is almost always a mistake (in CI an unavailable secret reads as an
        // empty variable): deploying it would replace a working key with nothing.
        if (value === '') {
          throw new UserError(
            `the secret from ${source} is empty`,
            origin.location,
            'set it to the real value; an empty secret is refused so a missing one cannot be deployed',
          );
        }
        return new Secret(value, source);
      });
      this.#secrets.set(key, pending);
    }
    return pending;
  }

  async #evaluate(ref: SecretRef, origin: Origin): Promise<string> {
    if ('env' in ref) {
      const value = this.env[ref.env];
      if (value === undefined) {
        throw new UserError(
          `the environment variable ${ref.env} is not set on this machine`,
          origin.location,
          `export ${ref.env}=… before running hermes-fleet`,
        );
      }
      return value;
    }
    if ('file' in ref) {
      const file = resolveLocalPath(origin.dir, ref.file);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new UserError(
          `cannot read the secret file ${ref.file} (${file}): ${describeFsError(err)}`,
          origin.location,
        );
      }
      return trimOneNewline(text);
    }
    return trimOneNewline(await runSecretCommand(ref.command, origin));
  }
}

export function describeRef(ref: SecretRef): string {
  if ('env' in ref) return `env ${ref.env}`;
  if ('file' in ref) return `file ${ref.file}`;
  return `command ${ref.command}`;
}

function trimOneNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

const STDERR_LIMIT = 2000;

/**
 * Runs `command` with /bin/sh -c in the inventory file's directory. On failure the message has
 * the exit status and stderr, never stdout (not even as echoed to stderr): stdout is where the
 * secret would be.
 */
function runSecretCommand(command: string, origin: Origin): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: origin.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => {
      reject(
        new UserError(`the secret command could not be started: ${err.message}`, origin.location),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(stdout).toString('utf8'));
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with status ${String(code)}`;
      const out = Buffer.concat(stdout).toString('utf8');
      let err = withoutStdout(Buffer.concat(stderr).toString('utf8'), out).trim();
      if (err.length > STDERR_LIMIT) err = `${err.slice(0, STDERR_LIMIT)}…`;
      reject(
        new UserError(
          `the secret command ${how}${err ? `; its stderr:\n${indent(err)}` : ' (no stderr)'}`,
          origin.location,
        ),
      );
    });
  });
}

/** Values of at least this length are removed from a failed command's stderr. */
const SHORTEST_REMOVED = 4;

/**
 * A failed secret command's stderr without anything it also printed on stdout: a command that
 * echoes its value to stderr (`set -x`, a tool that reports what it got) would otherwise put the
 * secret into the error message. The whole stdout goes first, then each of its lines (so a
 * value traced in pieces goes too); lines shorter than 4 characters stay, or every `}` or digit
 * in the message would vanish.
 */
function withoutStdout(stderr: string, stdout: string): string {
  const values = new Set<string>();
  for (const whole of [stdout, stdout.trim()]) {
    if (whole.length >= SHORTEST_REMOVED) values.add(whole);
  }
  for (const line of stdout.split('\n')) {
    const value = line.trim();
    if (value.length >= SHORTEST_REMOVED) values.add(value);
  }
  let text = stderr;
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    text = text.split(value).join('<stdout removed>');
  }
  return text;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
