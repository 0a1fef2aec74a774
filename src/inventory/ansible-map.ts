import * as path from 'node:path';
import type { SourceLocation } from '../errors.js';
import { UserError } from '../errors.js';
import type { AnsibleVar, VarMap } from './ansible-data.js';
import { checkSchema } from './check-schema.js';
import type { Layer, Origin } from './layer.js';
import { isAtomic, LayerLeaf, LayerMap } from './layer.js';
import { hermesSchema, sshSchema } from './schema.js';
import { shlexSplit } from './shlex.js';
import { formatKeyPath } from './yaml-source.js';

/**
 * Ansible variables that change nothing for hermes-fleet (it runs no Python module on the host
 * and opens its own SSH connections), so they are ignored without a warning.
 */
const HARMLESS = new Set([
  'ansible_python_interpreter',
  'ansible_pipelining',
  'ansible_ssh_pipelining',
  'ansible_ssh_retries',
  'ansible_ssh_transfer_method',
  'ansible_scp_if_ssh',
  'ansible_sftp_batch_mode',
  'ansible_ssh_executable',
  'ansible_connection_timeout',
]);

/** ssh -o options that only tune OpenSSH's own connection reuse or keep-alives. */
const HARMLESS_SSH_OPTIONS = new Set([
  'controlmaster',
  'controlpersist',
  'controlpath',
  'serveraliveinterval',
  'serveralivecountmax',
  'tcpkeepalive',
  'compression',
  'loglevel',
  'preferredauthentications',
  'passwordauthentication',
  'kbdinteractiveauthentication',
  'batchmode',
]);

/** Ansible's boolean(): what `ansible_become: yes` and friends accept. */
function ansibleBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  if (typeof value !== 'string') return undefined;
  const lower = value.trim().toLowerCase();
  if (['y', 'yes', 'on', '1', 'true', 't'].includes(lower)) return true;
  if (['n', 'no', 'off', '0', 'false', 'f', ''].includes(lower)) return false;
  return undefined;
}

export interface MappedHost {
  /** `{ ssh, hermes }` as the hermes-format inventory would give them, with origins. */
  settings: LayerMap;
}

/**
 * Turns one host's resolved Ansible variables into hermes-fleet settings:
 *
 * | Ansible | hermes-fleet |
 * | --- | --- |
 * | ansible_host, ansible_port, ansible_user | ssh.host, ssh.port, ssh.user |
 * | ansible_ssh_private_key_file | ssh.identityFile (relative: to the current directory, as Ansible) |
 * | ansible_ssh_common_args/_extra_args/_args | -o ProxyJump, -J, ProxyCommand `ssh -W %h:%p [-p N] bastion` → ssh.jump; StrictHostKeyChecking, UserKnownHostsFile, ConnectTimeout, IdentityFile, -i, -p, -l |
 * | ansible_become (+ _method sudo, _user root) | ssh.become sudo / none |
 * | hermes (a map) | the `hermes` settings, checked by the inventory schema |
 *
 * Refused, with file:line: another become method or user, a connection other than ssh. Other
 * `ansible_*` variables that would change what Ansible does give a warning (once per place).
 */
export class AnsibleMapper {
  private readonly layers = new WeakMap<AnsibleVar, Layer>();
  /** An ssh setting from one variable is checked once, however many hosts share it. */
  private readonly leaves = new WeakMap<AnsibleVar, Map<string, LayerLeaf>>();
  private readonly warned = new Map<string, { message: string; where: SourceLocation }>();

  constructor(private readonly cwd: string) {}

  /** Each warning once, with where it was written. */
  warnings(): string[] {
    return [...this.warned.values()].map(({ message, where }) => {
      const at = where.line === undefined ? where.file : `${where.file}:${where.line}`;
      return `${at}: ${message}`;
    });
  }

  private warn(variable: AnsibleVar, name: string, message: string): void {
    const key = `${variable.where.file}:${variable.where.line ?? ''}:${name}`;
    if (!this.warned.has(key)) this.warned.set(key, { message, where: variable.where });
  }

  map(vars: VarMap): MappedHost {
    const ssh = new Map<string, Layer>();
    const set = (key: string, value: unknown, variable: AnsibleVar) => {
      let known = this.leaves.get(variable);
      if (!known) {
        known = new Map<string, LayerLeaf>();
        this.leaves.set(variable, known);
      }
      let leaf = known.get(key);
      if (!leaf) {
        checkSchema(sshSchema, { [key]: value }, () => variable.where);
        leaf = new LayerLeaf(value, { location: variable.where, dir: this.cwd });
        known.set(key, leaf);
      }
      ssh.set(key, leaf);
    };
    const get = (...names: string[]): [AnsibleVar, string] | undefined => {
      for (const name of names) {
        const found = vars.get(name);
        if (found) return [found, name];
      }
      return undefined;
    };
    // ssh takes the FIRST value of each option on its command line, and Ansible builds it as:
    // ansible_ssh_args, then port, key, user and timeout from their variables, then
    // ansible_ssh_common_args, then ansible_ssh_extra_args. Each setting keeps its first value.
    const first = (key: string, value: unknown, variable: AnsibleVar) => {
      if (!ssh.has(key)) set(key, value, variable);
    };
    const host = get('ansible_host', 'ansible_ssh_host');
    if (host) set('host', String(host[0].value), host[0]);
    const sshArgs = vars.get('ansible_ssh_args');
    if (sshArgs) this.sshArgs(sshArgs, 'ansible_ssh_args', first);
    const port = get('ansible_port', 'ansible_ssh_port');
    if (port) first('port', toInt(port[0].value), port[0]);
    const key = get('ansible_ssh_private_key_file', 'ansible_private_key_file');
    if (key) first('identityFile', String(key[0].value), key[0]);
    const user = get('ansible_user', 'ansible_ssh_user');
    if (user) first('user', String(user[0].value), user[0]);
    const timeout = get('ansible_ssh_timeout', 'ansible_timeout');
    if (timeout) first('connectTimeout', toInt(timeout[0].value), timeout[0]);
    for (const name of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
      const variable = vars.get(name);
      if (variable) this.sshArgs(variable, name, first);
    }
    const checking = get('ansible_ssh_host_key_checking', 'ansible_host_key_checking');
    if (checking && ansibleBoolean(checking[0].value) === false) {
      first('hostKeyPolicy', 'off', checking[0]);
    }
    this.become(vars, set);
    const connection = vars.get('ansible_connection');
    if (connection && !['ssh', 'smart', 'paramiko'].includes(String(connection.value))) {
      throw new UserError(
        `ansible_connection=${String(connection.value)} is not supported: hermes-fleet reaches every host over SSH`,
        connection.where,
        'remove it (or use ansible_connection=ssh) for the hosts hermes-fleet deploys to',
      );
    }
    for (const [name, variable] of vars) {
      if (!name.startsWith('ansible_') || HARMLESS.has(name) || MAPPED.has(name)) continue;
      if (/pass(word)?$/.test(name)) {
        this.warn(
          variable,
          name,
          `${name} is ignored: hermes-fleet logs in with keys (ssh-agent, identityFile) and needs passwordless sudo`,
        );
      } else {
        this.warn(
          variable,
          name,
          `${name} is not used by hermes-fleet; the host is deployed without it`,
        );
      }
    }
    const entries = new Map<string, Layer>();
    const anchor = host?.[0] ?? vars.values().next().value;
    const origin: Origin = {
      location: anchor?.where ?? { file: '(ansible inventory)' },
      dir: this.cwd,
    };
    if (ssh.size > 0) entries.set('ssh', new LayerMap(ssh, origin));
    const hermes = vars.get('hermes');
    if (hermes) entries.set('hermes', this.hermesLayer(hermes));
    return { settings: new LayerMap(entries, origin) };
  }

  private become(vars: VarMap, set: (key: string, value: unknown, v: AnsibleVar) => void): void {
    const method = vars.get('ansible_become_method');
    if (method && String(method.value) !== 'sudo') {
      throw new UserError(
        `ansible_become_method=${String(method.value)} is not supported: hermes-fleet becomes root with sudo -n only`,
        method.where,
        'use sudo (with NOPASSWD for the login user), or log in as root',
      );
    }
    const becomeUser = vars.get('ansible_become_user');
    if (becomeUser && String(becomeUser.value) !== 'root') {
      throw new UserError(
        `ansible_become_user=${String(becomeUser.value)} is not supported: hermes-fleet becomes root (and runs the gateway as hermes.user)`,
        becomeUser.where,
        'remove it; set the service account with hermes: { user: ... }',
      );
    }
    const become = vars.get('ansible_become') ?? vars.get('ansible_sudo');
    if (become) {
      const on = ansibleBoolean(become.value);
      if (on === undefined) {
        throw new UserError('ansible_become must be a boolean (yes/no, true/false)', become.where);
      }
      set('become', on ? 'sudo' : 'none', become);
    }
  }

  /** The ssh options Ansible would pass on the command line, as far as they map. */
  private sshArgs(
    variable: AnsibleVar,
    name: string,
    set: (key: string, value: unknown, v: AnsibleVar) => void,
  ): void {
    let words: string[];
    try {
      words = shlexSplit(String(variable.value));
    } catch (err) {
      throw new UserError(`${name}: ${(err as Error).message}`, variable.where);
    }
    const ignored: string[] = [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as string;
      const next = () => {
        const value = words[++i];
        if (value === undefined)
          throw new UserError(`${name}: ${word} needs a value`, variable.where);
        return value;
      };
      const flag = /^-([A-Za-z])(.*)$/.exec(word);
      if (!flag) {
        ignored.push(word);
        continue;
      }
      const letter = flag[1] as string;
      const inline = flag[2] as string;
      const value = () => (inline !== '' ? inline : next());
      if (letter === 'o') {
        const option = value();
        const eq = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(option);
        if (!eq) {
          ignored.push(`-o ${option}`);
          continue;
        }
        this.sshOption((eq[1] as string).toLowerCase(), eq[2] as string, variable, set, ignored);
      } else if (letter === 'J') set('jump', value(), variable);
      else if (letter === 'p') set('port', toInt(value()), variable);
      else if (letter === 'i') set('identityFile', value(), variable);
      else if (letter === 'l') set('user', value(), variable);
      else if (['q', 'v', 'C', 'T', 'n', 'x', 'a', '4', '6'].includes(letter)) continue;
      else ignored.push(word);
    }
    if (ignored.length > 0) {
      this.warn(
        variable,
        `${name}:${ignored.join(' ')}`,
        `${name}: ${ignored.join(' ')} is not used by hermes-fleet (it maps ProxyJump, -J, ProxyCommand ssh -W, StrictHostKeyChecking, UserKnownHostsFile, ConnectTimeout, IdentityFile, -i, -p, -l)`,
      );
    }
  }

  private sshOption(
    option: string,
    value: string,
    variable: AnsibleVar,
    set: (key: string, value: unknown, v: AnsibleVar) => void,
    ignored: string[],
  ): void {
    if (option === 'proxyjump') set('jump', value, variable);
    else if (option === 'proxycommand') {
      const jump = jumpFromProxyCommand(value);
      if (jump === undefined) ignored.push(`-o ProxyCommand=${value}`);
      else set('jump', jump, variable);
    } else if (option === 'stricthostkeychecking') {
      const lower = value.toLowerCase();
      set(
        'hostKeyPolicy',
        lower === 'accept-new' ? 'accept-new' : ['no', 'off'].includes(lower) ? 'off' : 'strict',
        variable,
      );
    } else if (option === 'userknownhostsfile') set('knownHosts', value.split(/\s+/)[0], variable);
    else if (option === 'connecttimeout') set('connectTimeout', toInt(value), variable);
    else if (option === 'identityfile') set('identityFile', value, variable);
    else if (option === 'port') set('port', toInt(value), variable);
    else if (option === 'user') set('user', value, variable);
    else if (!HARMLESS_SSH_OPTIONS.has(option)) ignored.push(`-o ${option}=${value}`);
  }

  /** The `hermes` variable as settings, checked by the schema once per place it is written. */
  private hermesLayer(variable: AnsibleVar): Layer {
    const cached = this.layers.get(variable);
    if (cached) return cached;
    const base = variable.where;
    const at = (segments: readonly (string | number)[]) => ({
      ...(variable.locate ? variable.locate(segments) : base),
      keyPath: formatKeyPath(['hermes', ...segments]),
    });
    checkSchema(hermesSchema, variable.value, at);
    const dir = path.dirname(path.resolve(this.cwd, base.file));
    const build = (value: unknown, segments: string[]): Layer => {
      const origin: Origin = { location: at(segments.slice(1)), dir };
      if (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        !isAtomic(segments)
      ) {
        const entries = new Map<string, Layer>();
        for (const [key, child] of Object.entries(value))
          entries.set(key, build(child, [...segments, key]));
        return new LayerMap(entries, origin);
      }
      return new LayerLeaf(value, origin);
    };
    const layer = build(variable.value, ['hermes']);
    this.layers.set(variable, layer);
    return layer;
  }
}

const MAPPED = new Set([
  'ansible_host',
  'ansible_ssh_host',
  'ansible_port',
  'ansible_ssh_port',
  'ansible_user',
  'ansible_ssh_user',
  'ansible_ssh_private_key_file',
  'ansible_private_key_file',
  'ansible_ssh_timeout',
  'ansible_timeout',
  'ansible_ssh_host_key_checking',
  'ansible_host_key_checking',
  'ansible_ssh_args',
  'ansible_ssh_common_args',
  'ansible_ssh_extra_args',
  'ansible_become',
  'ansible_sudo',
  'ansible_become_method',
  'ansible_become_user',
  'ansible_connection',
]);

function toInt(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return value;
}

/** `ssh -W %h:%p [-q] [-p N] [-l U] [user@]bastion` → `[user@]bastion[:N]`; else undefined. */
export function jumpFromProxyCommand(command: string): string | undefined {
  let words: string[];
  try {
    words = shlexSplit(command);
  } catch {
    return undefined;
  }
  if (!/(^|\/)ssh$/.test(words[0] ?? '') || !words.includes('-W')) return undefined;
  let port: string | undefined;
  let user: string | undefined;
  let target: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as string;
    if (word === '-W') {
      if (!/^%h:%p$/.test(words[++i] ?? '')) return undefined;
    } else if (word === '-p') port = words[++i];
    else if (word === '-l') user = words[++i];
    else if (word === '-q' || word === '-T' || word === '-C') continue;
    else if (word.startsWith('-')) return undefined;
    else if (target === undefined) target = word;
    else return undefined;
  }
  if (target === undefined) return undefined;
  const withUser = user !== undefined && !target.includes('@') ? `${user}@${target}` : target;
  return port !== undefined ? `${withUser}:${port}` : withUser;
}
