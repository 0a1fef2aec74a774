import type { StdinPart } from '../exec/write-stdin.js';
import type { Secret } from '../secret.js';

/** systemd's Restart= values (systemd.service(5)), in the order the schema lists them. */
export const RESTART_VALUES = [
  'no',
  'on-success',
  'on-failure',
  'on-abnormal',
  'on-watchdog',
  'on-abort',
  'always',
] as const;
export type RestartPolicy = (typeof RESTART_VALUES)[number];

/**
 * How to reach one host, as the inventory says it (after precedence). Unset keys stay unset so
 * the transport can fill them from ~/.ssh/config first and from the defaults after, as OpenSSH
 * does; see src/transport for the resolved form.
 */
export interface SshSettings {
  /** Address or DNS name; default: the host's inventory name. */
  host?: string;
  port?: number;
  /** Login user; default: ~/.ssh/config's User, else the current user. */
  user?: string;
  /** Default: `sudo` unless the login user is root. */
  become?: 'sudo' | 'none';
  /** Absolute path on the control machine (`~` expanded, relative paths resolved). */
  identityFile?: string;
  /** Absolute path on the control machine; default ~/.ssh/known_hosts. */
  knownHosts?: string;
  /** Default `strict`. */
  hostKeyPolicy?: 'strict' | 'accept-new' | 'off';
  /** Bastion as `[user@]host[:port]`. */
  jump?: string;
  /** Seconds; default 10. */
  connectTimeout?: number;
  /** Name of an environment variable on the control machine holding the key's passphrase. */
  passphraseEnv?: string;
}

/** One MCP server as the NixOS module's option type describes it. */
export interface McpServerSettings {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
  auth?: 'oauth';
  enabled?: boolean;
  timeout?: number;
  connect_timeout?: number;
  tools?: { include?: string[]; exclude?: string[] };
  sampling?: {
    enabled?: boolean;
    model?: string;
    max_tokens_cap?: number;
    timeout?: number;
    max_rpm?: number;
    max_tool_rounds?: number;
    allowed_models?: string[];
    log_level?: 'debug' | 'info' | 'warning';
  };
}

export interface ContainerSettings {
  enable: boolean;
  backend: 'docker' | 'podman';
  image: string;
  /** A local `docker save` archive, loaded on hosts that lack the image it holds. */
  imageArchive?: ImageArchive;
  extraVolumes: string[];
  extraOptions: string[];
  /** People who share the gateway's state: in its group, with ~/.hermes linked to HERMES_HOME. */
  hostUsers: string[];
}

/**
 * A container image archive on the control machine, inspected once at load time (its sha256,
 * the id of the image it holds). Shared by every host that names the file.
 */
export interface ImageArchive {
  /** Absolute path on the control machine. */
  path: string;
  /** As the inventory wrote it, for messages. */
  written: string;
  /** Full sha256 of the file, hex: what the host checks the upload against. */
  sha256: string;
  size: number;
  /** The image id, `sha256:<hex>` of the image's config blob: what the runtimes call it. */
  id: string;
  /**
   * The file to send, checked once per run (the first host that needs it): rejects when it no
   * longer has the sha256 read at load time. Read as it is sent, never held whole.
   */
  bytes(): Promise<StdinPart>;
}

/** How a release archive is packed: the decompressor tar needs on the host. */
export type ArchiveFormat = 'tar' | 'gzip' | 'xz' | 'zstd';

/**
 * A hermes-agent release archive on the control machine, inspected once at load time (its
 * sha256, its format, where bin/hermes is in it). Shared by every host that names the file.
 */
export interface ReleaseArchive {
  /** Absolute path on the control machine. */
  path: string;
  /** As the inventory wrote it, for messages. */
  written: string;
  /** Full sha256 of the file, hex. */
  sha256: string;
  /** The release id: the first 16 hex digits of the sha256. */
  id: string;
  size: number;
  format: ArchiveFormat;
  /** Leading path components to strip on unpacking (the one top-level directory, `./`). */
  strip: number;
  /**
   * The file to send, checked once per run (the first host that needs it): rejects when it no
   * longer has the sha256 read at load time. Read as it is sent to each host, never held whole:
   * the controller's memory does not grow with the release (the host checks the sha256 of what
   * it got, so a file changed after the check is refused there).
   */
  bytes(): Promise<StdinPart>;
}

/**
 * A plugin of `extraPlugins`, packed at load time as a stable plain tar (plugin-archive.ts): on
 * the host it is unpacked as a release is (root's, read-only to others) under its id, and linked
 * into HERMES_HOME/plugins as `fleet-managed-<name>`.
 */
export interface PluginSource extends ReleaseArchive {
  /** Its name on the host (unique per host): the entry's `name`, else the file's base name. */
  name: string;
}

/**
 * A release each host downloads itself (`hermes.release.url` with its `sha256`): the controller
 * never reads it. Where bin/hermes is inside it is found on the host once unpacked, as
 * `findHermes` finds it in a local archive.
 */
export interface ReleaseDownload {
  /** http or https; it travels to the host on stdin, never on a command line. */
  url: string;
  /** The URL without user, password or query, for people (a query may hold a token). */
  written: string;
  /** Full sha256 of the file, hex, as the inventory gives it. */
  sha256: string;
  /** The release id: the first 16 hex digits of the sha256. */
  id: string;
  format: ArchiveFormat;
}

/** Where a release's bytes come from: the controller's upload, or the host's own download. */
export type ReleaseSource = ReleaseArchive | ReleaseDownload;

export function isDownload(source: ReleaseSource): source is ReleaseDownload {
  return 'url' in source;
}

/** `hermes.release`: install hermes-agent from an archive (releases.md). */
export interface ReleaseSettings {
  archive: ReleaseSource;
  /** Default /opt/hermes-agent: holds `releases/<id>/` and the `current` link. */
  root: string;
  /** Releases kept besides the current one. */
  keep: number;
}

/** What to deploy on one host: the NixOS module's options, resolved, with defaults applied. */
export interface HermesSettings {
  /**
   * The instance's name under `instances:` (its unit is `hermes-agent-<name>.service`); absent
   * for `hermes:` alone, the one instance of a host as before instances existed.
   */
  instance?: string;
  /** With `release`, derived: `<release.root>/releases/<id>`. */
  package: string;
  release?: ReleaseSettings;
  user: string;
  group: string;
  createUser: boolean;
  stateDir: string;
  /** Defaults to `<stateDir>/workspace`. */
  workingDirectory: string;
  settings: Record<string, unknown>;
  /** Content of the local configFile (read on the control machine), when set. */
  configFile?: { path: string; content: string };
  mcpServers: Record<string, McpServerSettings>;
  environment: Record<string, string>;
  secrets: Record<string, Secret>;
  environmentFiles: string[];
  /** Content of the local authFile; a secret (OAuth credentials). */
  authFile?: Secret;
  authFileForceOverwrite: boolean;
  /** Document key → text (inline, or read from the local file). */
  documents: Record<string, string>;
  /** Debian packages installed with apt-get when missing. */
  extraPackages: string[];
  /** The plugins to install, in inventory order, names unique. */
  extraPlugins: PluginSource[];
  extraArgs: string[];
  restart: RestartPolicy;
  restartSec: number;
  healthCheck: { seconds: number; command?: string };
  /** How many generations each host keeps (the newest). */
  generations: { keep: number };
  addToSystemPackages: boolean;
  container: ContainerSettings;
}

/** One host of the inventory with everything resolved: the input of a run. */
export interface HostSpec {
  name: string;
  /** Every group the host belongs to, outermost first (`all` included). */
  groups: string[];
  ssh: SshSettings;
  /**
   * The instance being planned (planHost hands each task one instance at a time); anywhere
   * else, the first of `instances`, or `hermes:` alone when there are none.
   */
  hermes: HermesSettings;
  /**
   * Set only with `instances:`: every named gateway the host runs, in name order (never empty).
   * Without it, `hermes` is the host's one instance (`hostInstances`).
   */
  instances?: HermesSettings[];
  /**
   * `--instance NAME`: the instances this command acts on; the others are left alone, but still
   * count where instances share something (the container entrypoint, a release root).
   */
  onlyInstances?: string[];
  /** `run --purge-removed-instances`: a dropped instance's state directory goes too. */
  purgeRemovedInstances?: boolean;
}

/** The gateways a command acts on: the host's instances (or `hermes:` alone), --instance applied. */
export function hostInstances(host: HostSpec): HermesSettings[] {
  const only = host.onlyInstances;
  const all = allInstances(host);
  return only === undefined
    ? all
    : all.filter((h) => h.instance !== undefined && only.includes(h.instance));
}

/** Every gateway the inventory gives the host, whatever --instance selected. */
export function allInstances(host: HostSpec): HermesSettings[] {
  return host.instances ?? [host.hermes];
}

/** The host seen as one of its instances: what each task plans against. */
export function asInstance(host: HostSpec, hermes: HermesSettings): HostSpec {
  return { ...host, hermes };
}

/** A loaded inventory: every host, and group membership for --limit. */
export interface Inventory {
  hosts: HostSpec[];
  /** Group name → host names, in file order (includes `all`). */
  groups: Map<string, string[]>;
  files: string[];
  /**
   * Set for Ansible inventories: a group's hosts in Ansible's order. Then `--limit` reads
   * `web[0]`, `web[1:3]` as Ansible's subscripts, not as globs.
   */
  ansibleGroupHosts?: (group: string) => string[];
}
