import { access } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { SshSettings } from '../inventory/types.js';
import type { HostKeyPolicy } from './known-hosts.js';
import { lookupSshConfig, takeSshConfigWarnings, type SshConfigValues } from './ssh-config.js';

/** One SSH server to log in to: the target itself or a bastion on the way. */
export interface SshEndpoint {
  /** Address connected to (after ~/.ssh/config HostName). */
  host: string;
  port: number;
  user: string;
  /**
   * Private key files tried after ssh-agent, in order (absolute paths): the inventory's
   * identityFile, else ~/.ssh/config's IdentityFile, else those of ~/.ssh/id_ed25519, id_ecdsa,
   * id_rsa that exist.
   */
  identityFiles: string[];
  /** Name looked up in known_hosts instead of `host` (~/.ssh/config HostKeyAlias). */
  hostKeyAlias?: string;
}

/** Everything needed to reach one inventory host, with ~/.ssh/config and defaults applied. */
export interface SshTarget extends SshEndpoint {
  /** The inventory host name, for messages. */
  name: string;
  become: 'sudo' | 'none';
  /** Seconds allowed for each hop's TCP connect, handshake and login. */
  connectTimeout: number;
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  /** Bastions in the order they are passed through (first is connected to directly). */
  jump: SshEndpoint[];
  /** Environment variable holding the passphrase of encrypted identity files. */
  passphraseEnv?: string;
  /** Things the person should know about how the target was resolved. */
  warnings: string[];
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const DEFAULT_CONNECT_TIMEOUT = 10;
// A bastion naming its own bastion (and so on) is followed this deep before we call it a loop.
const MAX_JUMP_DEPTH = 8;

export interface JumpSpec {
  host: string;
  user?: string;
  port?: number;
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

function parseOneJump(text: string, whole: string): JumpSpec {
  let rest = text.trim();
  const uri = /^ssh:\/\/(.*)$/.exec(rest);
  if (uri?.[1] !== undefined) rest = uri[1].replace(/\/$/, '');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let host = rest;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed?.[1] !== undefined) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    [host = '', portText] = rest.split(':');
  }
  const bad = (why: string): UserError =>
    new UserError(
      `invalid jump host ${JSON.stringify(whole)}: ${why}`,
      undefined,
      'write it as [user@]host[:port], several separated by commas',
    );
  if (host === '' || /\s/.test(host)) throw bad('no host');
  if (user === '') throw bad('empty user before @');
  const spec: JumpSpec = { host };
  if (user !== undefined) spec.user = user;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
      throw bad(`bad port ${JSON.stringify(portText)}`);
    spec.port = port;
  }
  return spec;
}

/** Parses `[user@]host[:port]`, comma-separated for a chain, as ProxyJump does; `none` is empty. */
export function parseJumpSpec(text: string): JumpSpec[] {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  return trimmed.split(',').map((part) => parseOneJump(part, text));
}

async function existingDefaultIdentities(): Promise<string[]> {
  const candidates = DEFAULT_IDENTITIES.map((name) => join(homedir(), '.ssh', name));
  const present = await Promise.all(
    candidates.map((file) =>
      access(file).then(
        () => true,
        () => false,
      ),
    ),
  );
  return candidates.filter((_, index) => present[index]);
}

async function resolveJumpChain(
  specs: readonly JumpSpec[],
  fallbackIdentities: readonly string[],
  depth: number,
  seen: ReadonlySet<string>,
): Promise<SshEndpoint[]> {
  if (depth > MAX_JUMP_DEPTH) {
    throw new UserError(
      `jump hosts nest deeper than ${MAX_JUMP_DEPTH} levels (a ProxyJump loop in ~/.ssh/config?)`,
    );
  }
  const hops: SshEndpoint[] = [];
  for (const [index, spec] of specs.entries()) {
    const lookup = {
      alias: spec.host,
      ...(spec.user ? { user: spec.user } : {}),
      ...(spec.port ? { port: spec.port } : {}),
    };
    const config = await lookupSshConfig(lookup);
    // Like `ssh -J a,b`: only the first hop is reached by its own ProxyJump; later hops are
    // reached through the hop before them.
    if (index === 0 && config?.proxyJump !== undefined) {
      const key = `${spec.user ?? ''}@${spec.host}:${spec.port ?? ''}`;
      if (seen.has(key))
        throw new UserError(`ProxyJump loop in ~/.ssh/config through ${spec.host}`);
      hops.push(
        ...(await resolveJumpChain(
          parseJumpSpec(config.proxyJump),
          fallbackIdentities,
          depth + 1,
          new Set([...seen, key]),
        )),
      );
    }
    hops.push(endpointFrom(spec, config, fallbackIdentities));
  }
  return hops;
}

function endpointFrom(
  spec: JumpSpec,
  config: SshConfigValues | undefined,
  fallbackIdentities: readonly string[],
): SshEndpoint {
  const endpoint: SshEndpoint = {
    host: config?.hostname ?? spec.host,
    port: spec.port ?? config?.port ?? 22,
    user: spec.user ?? config?.user ?? userInfo().username,
    identityFiles: config?.identityFiles ?? [...fallbackIdentities],
  };
  if (config?.hostKeyAlias !== undefined) endpoint.hostKeyAlias = config.hostKeyAlias;
  return endpoint;
}

/**
 * Resolves how to reach an inventory host: the inventory's settings first, then ~/.ssh/config
 * for what they leave unset (as `ssh <host>` would read it), then hermes-fleet's defaults.
 * The inventory `host` (default: the host's name) is what one would type after `ssh`.
 */
export async function resolveSshTarget(name: string, ssh: SshSettings): Promise<SshTarget> {
  const alias = ssh.host ?? name;
  const config = await lookupSshConfig({
    alias,
    ...(ssh.user !== undefined ? { user: ssh.user } : {}),
    ...(ssh.port !== undefined ? { port: ssh.port } : {}),
  });
  const warnings = takeSshConfigWarnings();

  const user = ssh.user ?? config?.user ?? userInfo().username;
  const identityFiles =
    ssh.identityFile !== undefined
      ? [expandHome(ssh.identityFile)]
      : (config?.identityFiles ?? (await existingDefaultIdentities()));

  const jumpText = ssh.jump ?? config?.proxyJump;
  const jumpSpecs = jumpText === undefined ? [] : parseJumpSpec(jumpText);
  const jump = await resolveJumpChain(jumpSpecs, identityFiles, 1, new Set());
  if (jumpText === undefined && config?.proxyCommand !== undefined) {
    warnings.push(
      `~/.ssh/config sets ProxyCommand for ${alias}, which hermes-fleet does not run; ` +
        `connecting directly (use ProxyJump or ssh.jump for a bastion)`,
    );
  }

  const target: SshTarget = {
    name,
    host: config?.hostname ?? alias,
    port: ssh.port ?? config?.port ?? 22,
    user,
    identityFiles,
    become: ssh.become ?? (user === 'root' ? 'none' : 'sudo'),
    connectTimeout: ssh.connectTimeout ?? config?.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    knownHosts: expandHome(
      ssh.knownHosts ?? config?.knownHostsFiles?.[0] ?? join(homedir(), '.ssh', 'known_hosts'),
    ),
    hostKeyPolicy: ssh.hostKeyPolicy ?? config?.hostKeyPolicy ?? 'strict',
    jump,
    warnings,
  };
  if (config?.hostKeyAlias !== undefined) target.hostKeyAlias = config.hostKeyAlias;
  if (ssh.passphraseEnv !== undefined) target.passphraseEnv = ssh.passphraseEnv;
  return target;
}
