import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { UserError } from '../errors.js';
import type { HostKeyPolicy } from './known-hosts.js';

/** Environment variable naming an ssh config file to use instead of ~/.ssh/config. */
export const SSH_CONFIG_ENV = 'HERMES_FLEET_SSH_CONFIG';

/**
 * What ~/.ssh/config says about one destination. `hostname`, `user` and `port` are always set
 * (OpenSSH's own defaults equal ours); the rest only when the config set them.
 */
export interface SshConfigValues {
  hostname: string;
  user: string;
  port: number;
  identityFiles?: string[];
  proxyJump?: string;
  proxyCommand?: string;
  connectTimeout?: number;
  hostKeyPolicy?: HostKeyPolicy;
  knownHostsFiles?: string[];
  hostKeyAlias?: string;
}

/** `ssh -G` prints `key value` lines; keys that repeat (identityfile) keep every value. */
export function parseSshGOutput(text: string): Map<string, string[]> {
  const options = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    const key = match[1].toLowerCase();
    const values = options.get(key) ?? [];
    values.push(match[2]);
    options.set(key, values);
  }
  return options;
}

/** Expands `~` and the % tokens OpenSSH allows in IdentityFile (ssh -G leaves them as written). */
export function expandPathTokens(
  path: string,
  context: { alias: string; hostname: string; port: number; user: string },
): string {
  const home = homedir();
  const local = userInfo();
  const fqdn = hostname();
  const tokens: Record<string, string> = {
    '%': '%',
    d: home,
    h: context.hostname,
    i: String(local.uid),
    L: fqdn.split('.')[0] ?? fqdn,
    l: fqdn,
    n: context.alias,
    p: String(context.port),
    r: context.user,
    u: local.username,
  };
  const expanded = path.replace(/%(.)/g, (whole, token: string) => tokens[token] ?? whole);
  if (expanded === '~') return home;
  if (expanded.startsWith('~/')) return join(home, expanded.slice(2));
  return expanded;
}

function policyOf(value: string | undefined): HostKeyPolicy | undefined {
  switch (value) {
    case 'true':
    case 'yes':
      return 'strict';
    case 'accept-new':
      return 'accept-new';
    case 'false':
    case 'no':
    case 'off':
      return 'off';
    default:
      // `ask` (OpenSSH's default) cannot prompt here: leave it to our default, strict.
      return undefined;
  }
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i])
  );
}

/**
 * Turns `ssh -G` output into the settings the config chose. `defaults` is `ssh -G` output with
 * no config at all: a list equal to it (identity files, known hosts files) was not set by the
 * config, so our own defaults apply instead.
 */
export function configValuesFrom(
  alias: string,
  options: Map<string, string[]>,
  defaults: Map<string, string[]>,
): SshConfigValues {
  const first = (key: string): string | undefined => options.get(key)?.[0];
  const hostnameValue = first('hostname') ?? alias;
  const user = first('user') ?? userInfo().username;
  const port = Number(first('port') ?? '22');
  const values: SshConfigValues = { hostname: hostnameValue, user, port };

  const identities = options.get('identityfile');
  if (identities && !sameList(identities, defaults.get('identityfile'))) {
    const context = { alias, hostname: hostnameValue, port, user };
    const files = identities
      .filter((file) => file !== 'none')
      .map((file) => expandPathTokens(file, context));
    values.identityFiles = files;
  }
  const jump = first('proxyjump');
  if (jump !== undefined && jump !== 'none') values.proxyJump = jump;
  const command = first('proxycommand');
  if (command !== undefined && command !== 'none') values.proxyCommand = command;
  const timeout = first('connecttimeout');
  if (timeout !== undefined && /^\d+$/.test(timeout)) values.connectTimeout = Number(timeout);
  const policy = policyOf(first('stricthostkeychecking'));
  if (policy) values.hostKeyPolicy = policy;
  const knownHosts = first('userknownhostsfile')?.split(/\s+/);
  if (knownHosts && !sameList(knownHosts, defaults.get('userknownhostsfile')?.[0]?.split(/\s+/))) {
    const context = { alias, hostname: hostnameValue, port, user };
    values.knownHostsFiles = knownHosts.map((file) => expandPathTokens(file, context));
  }
  const alias_ = first('hostkeyalias');
  if (alias_ !== undefined && alias_ !== 'none') values.hostKeyAlias = alias_;
  return values;
}

/** The config file ssh would read, or undefined when there is none (then ssh is not run). */
export function sshConfigFile(): { file: string; explicit: boolean } | undefined {
  const fromEnv = process.env[SSH_CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) {
      throw new UserError(`${SSH_CONFIG_ENV} names ${fromEnv}, which does not exist`);
    }
    return { file: fromEnv, explicit: true };
  }
  const file = join(homedir(), '.ssh', 'config');
  return existsSync(file) ? { file, explicit: false } : undefined;
}

class SshMissingError extends Error {}

// Resolving a large fleet must not start hundreds of ssh processes at once.
const sshProcesses = pLimit(8);

function runSshG(args: readonly string[]): Promise<string> {
  return sshProcesses(() => runSshGNow(args));
}

function runSshGNow(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'ssh',
      ['-G', ...args],
      { timeout: 15_000, maxBuffer: 1 << 20, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new SshMissingError('ssh not found'));
          return;
        }
        const detail = stderr
          .split('\n')
          .map((line) => line.trim())
          // OpenSSH notes a missing terminal even for -G; it is noise here.
          .filter(
            (line) => line !== '' && !line.startsWith('Pseudo-terminal will not be allocated'),
          )
          .join('; ');
        reject(new UserError(`ssh -G ${args.join(' ')} failed: ${detail || error.message}`));
      },
    );
  });
}

export interface SshConfigLookup {
  alias: string;
  user?: string;
  port?: number;
}

const lookups = new Map<string, Promise<SshConfigValues | undefined>>();
let defaultsOutput: Promise<Map<string, string[]>> | undefined;
let warnedMissingSsh = false;

/** Warnings to pass on once per process (ssh missing); taken by the first caller. */
const pendingWarnings: string[] = [];

export function takeSshConfigWarnings(): string[] {
  return pendingWarnings.splice(0);
}

async function lookupUncached(lookup: SshConfigLookup, file: string, explicit: boolean) {
  const args: string[] = explicit ? ['-F', file] : [];
  if (lookup.port !== undefined) args.push('-p', String(lookup.port));
  if (lookup.user !== undefined) args.push('-l', lookup.user);
  try {
    defaultsOutput ??= runSshG(['-F', '/dev/null', 'hermes-fleet-defaults']).then(parseSshGOutput);
    const [output, defaults] = await Promise.all([
      runSshG([...args, '--', lookup.alias]),
      defaultsOutput,
    ]);
    return configValuesFrom(lookup.alias, parseSshGOutput(output), defaults);
  } catch (error) {
    if (!(error instanceof SshMissingError)) throw error;
    if (!warnedMissingSsh) {
      warnedMissingSsh = true;
      pendingWarnings.push(
        `${file} is ignored: the OpenSSH client (ssh), which hermes-fleet asks to resolve it, is not installed`,
      );
    }
    return undefined;
  }
}

/**
 * Resolves a destination through the ssh config exactly as OpenSSH would (Include, Match, Host
 * patterns, first value wins) by asking `ssh -G`. Undefined when there is no config file, or
 * ssh is not installed. Cached per destination for the life of the process.
 */
export function lookupSshConfig(lookup: SshConfigLookup): Promise<SshConfigValues | undefined> {
  const config = sshConfigFile();
  if (!config) return Promise.resolve(undefined);
  const key = JSON.stringify([config.file, lookup.alias, lookup.user, lookup.port]);
  let cached = lookups.get(key);
  if (!cached) {
    cached = lookupUncached(lookup, config.file, config.explicit);
    lookups.set(key, cached);
    // A failure (a config syntax error) is not cached, so fixing the file and retrying works.
    cached.catch(() => lookups.delete(key));
  }
  return cached;
}
