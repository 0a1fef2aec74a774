import * as path from 'node:path';
import type * as z from 'zod';
import { dotenvProblem } from '../dotenv.js';
import { UserError } from '../errors.js';
import type { Secret } from '../secret.js';
import type { CollectedHost } from './collect.js';
import { checkDocumentKeys } from './document-keys.js';
import { defaultPluginName, PLUGIN_NAME } from './plugin-archive.js';
import type { Layer, Origin } from './layer.js';
import { LayerLeaf, LayerMap, mergeLayers, unwrap } from './layer.js';
import type { LocalReader, SecretRef } from './local-files.js';
import { resolveLocalPath } from './local-files.js';
import { checkInstancesApart, instanceStateDir } from './instances.js';
import type { hermesSchema } from './schema.js';
import type { HermesSettings, HostSpec, McpServerSettings, SshSettings } from './types.js';

/**
 * Every `hermes` setting's default (docs/inventory.md): what a host that sets nothing gets. The
 * resolver starts from these; the task tests' fixtures use them too.
 */
export function defaultHermesSettings(): HermesSettings {
  return {
    package: '/opt/hermes',
    user: 'hermes',
    group: 'hermes',
    createUser: true,
    stateDir: '/var/lib/hermes',
    workingDirectory: '/var/lib/hermes/workspace',
    settings: {},
    mcpServers: {},
    environment: {},
    secrets: {},
    environmentFiles: [],
    authFileForceOverwrite: false,
    documents: {},
    extraPackages: [],
    extraPlugins: [],
    extraArgs: [],
    restart: 'always',
    restartSec: 5,
    healthCheck: { seconds: 3 },
    generations: { keep: 10 },
    addToSystemPackages: false,
    container: {
      enable: false,
      backend: 'docker',
      image: 'ubuntu:24.04',
      extraVolumes: [],
      extraOptions: [],
      hostUsers: [],
    },
  };
}

/**
 * Turns a host's merged settings into its HostSpec: defaults applied, local files read,
 * secrets evaluated (through `reader`), and the checks that need the final values.
 */
export async function resolveHost(host: CollectedHost, reader: LocalReader): Promise<HostSpec> {
  const root = host.settings instanceof LayerMap ? host.settings : undefined;
  const instances = await resolveInstances(root, reader);
  return {
    name: host.name,
    groups: host.groups,
    ssh: resolveSsh(child(root, 'ssh')),
    hermes: instances[0] as HermesSettings,
    ...(instances.length > 1 || instances[0]?.instance !== undefined ? { instances } : {}),
  };
}

/**
 * `hermes:` alone is the host's one instance, as before instances existed. With `instances:`,
 * each named instance is `hermes:` (merged as ever) with the instance's own settings (merged
 * from every level the same way) deep-merged over it; `hermes:` is then no instance itself.
 */
async function resolveInstances(
  root: LayerMap | undefined,
  reader: LocalReader,
): Promise<HermesSettings[]> {
  const hermes = child(root, 'hermes');
  const named = child(root, 'instances');
  if (!named || named.entries.size === 0) return [await resolveHermes(hermes, reader)];
  const instances: HermesSettings[] = [];
  const layers = new Map<string, LayerMap | undefined>();
  for (const name of [...named.entries.keys()].sort()) {
    const own = named.entries.get(name);
    const merged = hermes && own ? mergeLayers(hermes, own) : (own ?? hermes);
    const layer = merged instanceof LayerMap ? merged : undefined;
    layers.set(name, layer);
    instances.push(await resolveHermes(layer, reader, name));
  }
  checkInstancesApart(instances, (name) => layers.get(name)?.origin.location);
  return instances;
}

function child(layer: Layer | undefined, key: string): LayerMap | undefined {
  const value = layer instanceof LayerMap ? layer.entries.get(key) : undefined;
  return value instanceof LayerMap ? value : undefined;
}

function leaf(layer: LayerMap | undefined, key: string): LayerLeaf | undefined {
  const value = layer?.entries.get(key);
  return value instanceof LayerLeaf ? value : undefined;
}

function resolveSsh(layer: LayerMap | undefined): SshSettings {
  const ssh: Record<string, unknown> & SshSettings = {};
  for (const [key, entry] of layer?.entries ?? []) {
    if (!(entry instanceof LayerLeaf)) continue;
    ssh[key] =
      key === 'identityFile' || key === 'knownHosts'
        ? resolveLocalPath(entry.origin.dir, String(entry.value))
        : entry.value;
  }
  return ssh;
}

type HermesInput = z.infer<typeof hermesSchema>;

async function resolveHermes(
  layer: LayerMap | undefined,
  reader: LocalReader,
  instance?: string,
): Promise<HermesSettings> {
  // The merged layers passed the schema piece by piece, and merging keeps each piece whole.
  const input = (layer ? unwrap(layer) : {}) as HermesInput;
  const d = defaultHermesSettings();
  const stateDir =
    input.stateDir ?? (instance === undefined ? d.stateDir : instanceStateDir(instance));
  const environment = resolveEnvironment(child(layer, 'environment'));
  const container = input.container ?? {};
  const hermes: HermesSettings = {
    ...(instance === undefined ? {} : { instance }),
    package: input.package ?? d.package,
    user: input.user ?? d.user,
    group: input.group ?? d.group,
    createUser: input.createUser ?? d.createUser,
    stateDir,
    // Computed after the merge so a group that moves stateDir moves the workspace with it.
    workingDirectory: input.workingDirectory ?? path.posix.join(stateDir, 'workspace'),
    settings: input.settings ?? d.settings,
    mcpServers: resolveMcpServers(child(layer, 'mcpServers')),
    environment,
    secrets: await resolveSecrets(child(layer, 'secrets'), environment, reader),
    environmentFiles: input.environmentFiles ?? d.environmentFiles,
    authFileForceOverwrite: input.authFileForceOverwrite ?? d.authFileForceOverwrite,
    documents: await resolveDocuments(child(layer, 'documents'), reader),
    extraPackages: [...new Set(input.extraPackages ?? d.extraPackages)],
    extraPlugins: await resolvePlugins(leaf(layer, 'extraPlugins'), reader),
    extraArgs: input.extraArgs ?? d.extraArgs,
    restart: input.restart ?? d.restart,
    restartSec: input.restartSec ?? d.restartSec,
    healthCheck: {
      seconds: input.healthCheck?.seconds ?? d.healthCheck.seconds,
      ...(input.healthCheck?.command === undefined ? {} : { command: input.healthCheck.command }),
    },
    generations: { keep: input.generations?.keep ?? d.generations.keep },
    addToSystemPackages: input.addToSystemPackages ?? d.addToSystemPackages,
    container: {
      enable: container.enable ?? d.container.enable,
      backend: container.backend ?? d.container.backend,
      image: container.image ?? d.container.image,
      extraVolumes: container.extraVolumes ?? d.container.extraVolumes,
      extraOptions: container.extraOptions ?? d.container.extraOptions,
      hostUsers: [...new Set(container.hostUsers ?? d.container.hostUsers)],
    },
  };
  const configFile = leaf(layer, 'configFile');
  if (configFile) {
    const written = configFile.value as string;
    hermes.configFile = {
      path: resolveLocalPath(configFile.origin.dir, written),
      content: await reader.text(written, configFile.origin),
    };
  }
  const authFile = leaf(layer, 'authFile');
  if (authFile) {
    hermes.authFile = await reader.secret({ file: authFile.value as string }, authFile.origin);
  }
  checkApartFromFleetState(hermes, layer);
  checkDocumentKeys(hermes, child(layer, 'documents'));
  const release = child(layer, 'release');
  if (release) await resolveRelease(hermes, layer, release, reader);
  // Inspected only where a container runs: hashing an image archive costs a read of it.
  const imageArchive = leaf(child(layer, 'container'), 'imageArchive');
  if (imageArchive && hermes.container.enable) {
    hermes.container.imageArchive = await reader.imageArchive(
      imageArchive.value as string,
      imageArchive.origin,
    );
  }
  return hermes;
}

/**
 * hermes-fleet's own state on a host (the lock, the spooled batches, the generations): root's
 * alone, written by name, so it may not lie in a tree the service account owns, nor hold one.
 */
export const FLEET_STATE_DIR = '/var/lib/hermes-fleet';

function checkApartFromFleetState(hermes: HermesSettings, layer: LayerMap | undefined): void {
  for (const key of ['stateDir', 'workingDirectory'] as const) {
    const tree = path.posix.normalize(hermes[key]);
    if (isUnder(tree, FLEET_STATE_DIR) || isUnder(FLEET_STATE_DIR, tree)) {
      const written = leaf(layer, key) ?? leaf(layer, 'stateDir');
      throw new UserError(
        `${key} ${tree} and ${FLEET_STATE_DIR} overlap: that is hermes-fleet's own state on the host (the lock, the generations), root's alone, and the service account owns ${key}`,
        written?.origin.location,
        'choose a stateDir apart from it (the default is /var/lib/hermes)',
      );
    }
  }
}

export const DEFAULT_RELEASE_ROOT = '/opt/hermes-agent';
export const DEFAULT_RELEASE_KEEP = 3;

function isUnder(child: string, parent: string): boolean {
  const relative = path.posix.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.posix.isAbsolute(relative));
}

/**
 * `hermes.release`: the archive inspected (once per file), and `package` derived from it. The
 * release root is root's alone, so it may not lie in a tree the service account owns.
 */
async function resolveRelease(
  hermes: HermesSettings,
  layer: LayerMap | undefined,
  release: LayerMap,
  reader: LocalReader,
): Promise<void> {
  const archiveLeaf = leaf(release, 'archive');
  const urlLeaf = leaf(release, 'url');
  const shaLeaf = leaf(release, 'sha256');
  const sourceLeaf = archiveLeaf ?? urlLeaf;
  if (!sourceLeaf) {
    throw new UserError(
      'the key "archive" or "url" is required',
      release.origin.location,
      'archive: a file the controller uploads; url with sha256: a file each host downloads',
    );
  }
  if (archiveLeaf && urlLeaf) {
    throw new UserError(
      'archive and url cannot both be set: one release comes from one place',
      urlLeaf.origin.location,
      'remove archive (hosts download the url) or url (the controller uploads the archive)',
    );
  }
  if (urlLeaf && !shaLeaf) {
    throw new UserError(
      'url needs sha256: a download is installed only when its bytes have the sha256 given',
      urlLeaf.origin.location,
      'add sha256 (the release page publishes it; sha256sum prints it)',
    );
  }
  if (archiveLeaf && shaLeaf) {
    throw new UserError(
      "sha256 goes with url: an archive's sha256 is read from the file itself",
      shaLeaf.origin.location,
      'remove sha256',
    );
  }
  const packageLeaf = leaf(layer, 'package');
  if (packageLeaf) {
    throw new UserError(
      'package and release cannot both be set: with release, the package is the release unpacked on the host',
      packageLeaf.origin.location,
      'remove package (or release)',
    );
  }
  const rootLeaf = leaf(release, 'root');
  const root = path.posix
    // The schema checked it is a string (unitPath).
    .normalize((rootLeaf?.value as string | undefined) ?? DEFAULT_RELEASE_ROOT)
    .replace(/(.)\/$/, '$1');
  const rootLocation = (rootLeaf ?? sourceLeaf).origin.location;
  if (root === '/') {
    throw new UserError(
      'release.root cannot be /',
      rootLocation,
      'the default is /opt/hermes-agent',
    );
  }
  for (const tree of [hermes.stateDir, hermes.workingDirectory]) {
    if (isUnder(root, tree) || isUnder(tree, root)) {
      throw new UserError(
        `release.root ${root} and ${tree} overlap: releases are root's alone, and the service account owns ${tree}`,
        rootLocation,
        'keep the release root apart from stateDir and workingDirectory (the default is /opt/hermes-agent)',
      );
    }
  }
  const keepLeaf = leaf(release, 'keep');
  // The schema checked the values (a local path; an http(s) URL with an archive ending, a sha256).
  const archive = archiveLeaf
    ? await reader.releaseArchive(archiveLeaf.value as string, archiveLeaf.origin)
    : await reader.releaseDownload(
        sourceLeaf.value as string,
        (shaLeaf?.value as string | undefined) ?? '',
        sourceLeaf.origin,
      );
  hermes.release = {
    archive,
    root,
    keep: keepLeaf ? Number(keepLeaf.value) : DEFAULT_RELEASE_KEEP,
  };
  hermes.package = `${root}/releases/${archive.id}`;
}

function resolveEnvironment(layer: LayerMap | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, entry] of layer?.entries ?? []) out[key] = String(unwrap(entry));
  return out;
}

async function resolveSecrets(
  layer: LayerMap | undefined,
  environment: Record<string, string>,
  reader: LocalReader,
): Promise<Record<string, Secret>> {
  const out: Record<string, Secret> = {};
  for (const [key, entry] of layer?.entries ?? []) {
    const origin = originOf(entry);
    if (key in environment) {
      throw new UserError(
        `${key} is set both in environment and in secrets`,
        origin.location,
        'keep it in secrets only',
      );
    }
    const secret = await reader.secret(unwrap(entry) as SecretRef, origin);
    // The message names the key and the rule, never the value.
    const problem = dotenvProblem(key, secret.reveal());
    if (problem) {
      throw new UserError(
        `the secret's value cannot be written to .env: ${problem}`,
        origin.location,
      );
    }
    out[key] = secret;
  }
  return out;
}

async function resolveDocuments(
  layer: LayerMap | undefined,
  reader: LocalReader,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, entry] of layer?.entries ?? []) {
    const doc = unwrap(entry) as string | { file: string };
    out[name] = typeof doc === 'string' ? doc : await reader.text(doc.file, originOf(entry));
  }
  return out;
}

/**
 * `extraPlugins`: each packed (plugin-archive.ts); two with one name would be one directory on
 * the host, so the second is refused, as the module's assertion does.
 */
async function resolvePlugins(
  entry: LayerLeaf | undefined,
  reader: LocalReader,
): Promise<HermesSettings['extraPlugins']> {
  if (!entry) return [];
  const list = entry.value as (string | { path: string; name?: string })[];
  const seen = new Set<string>();
  const out: HermesSettings['extraPlugins'] = [];
  for (const item of list) {
    const written = typeof item === 'string' ? item : item.path;
    const name = (typeof item === 'string' ? undefined : item.name) ?? defaultPluginName(written);
    if (!PLUGIN_NAME.test(name)) {
      throw new UserError(
        `the plugin ${written} would be named ${JSON.stringify(name)}, which is not a plugin name (letters, digits, ".", "_" and "-")`,
        entry.origin.location,
        'give it one: { path: ..., name: ... }',
      );
    }
    if (seen.has(name)) {
      throw new UserError(
        `two plugins are named ${name}: each is installed as fleet-managed-<name>, so names must differ`,
        entry.origin.location,
        'give one of them another name: { path: ..., name: ... }',
      );
    }
    seen.add(name);
    out.push(await reader.plugin(written, name, entry.origin));
  }
  return out;
}

function resolveMcpServers(layer: LayerMap | undefined): Record<string, McpServerSettings> {
  const out: Record<string, McpServerSettings> = {};
  for (const [name, entry] of layer?.entries ?? []) {
    const server = unwrap(entry) as McpServerSettings;
    if (server.command === undefined && server.url === undefined) {
      throw new UserError(
        'an MCP server needs a command (stdio transport) or a url (HTTP transport)',
        originOf(entry).location,
      );
    }
    out[name] = server;
  }
  return out;
}

function originOf(layer: Layer): Origin {
  return layer.origin;
}
