import type { PathFact } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change, Forgotten } from '../../src/plan/types.js';
import { isPlainMap, type PlainMap } from './config-merge.js';
import { hermesPaths, ownedAttrs, withActor } from './layout.js';
import { planFile } from './plan-file.js';

/**
 * What hermes-fleet put on a host itself, remembered so that what leaves the inventory leaves
 * the host (the NixOS module's merge never deletes). One small JSON file per task that owns a
 * part, in HERMES_HOME, 0600, the account's: each task writes its own after its own changes, so
 * `--tags` and a run that stops half-way never make one forget what another still has to
 * remove. A host with no such file (first converged by an older hermes-fleet, or by hand) gets
 * one on its next run and has nothing removed on that run.
 */
export const OWNED_MODE = 0o600;

export type OwnedPart = 'config' | 'env' | 'documents' | 'plugins';

export function ownedPath(h: HermesSettings, part: OwnedPart): string {
  return `${hermesPaths(h).hermesHome}/.fleet-owned-${part}.json`;
}

/** config.yaml: the key paths of the leaves of `settings` and `mcp_servers`. */
export interface OwnedConfig {
  keys: string[][];
}

/** .env: the keys written from `environment` and from `secrets` (not environmentFiles'). */
export interface OwnedEnv {
  environment: string[];
  secrets: string[];
}

/** The documents installed in workingDirectory, by name. */
export interface OwnedDocuments {
  documents: string[];
}

/** The plugins linked into HERMES_HOME/plugins, by name (each as `fleet-managed-<name>`). */
export interface OwnedPlugins {
  plugins: string[];
}

/** The leaves of a settings map: a value that is not a non-empty map ends a path. */
export function settingsLeaves(map: PlainMap, prefix: readonly string[] = []): string[][] {
  return Object.entries(map).flatMap(([key, value]) =>
    isPlainMap(value) && Object.keys(value).length > 0
      ? settingsLeaves(value, [...prefix, key])
      : [[...prefix, key]],
  );
}

/** `compression.threshold`, for people (a key holding a dot is quoted). */
export function keyPathText(path: readonly string[]): string {
  return path.map((key) => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key))).join('.');
}

export function renderOwned(value: OwnedConfig | OwnedEnv | OwnedDocuments | OwnedPlugins): string {
  return `${JSON.stringify({ version: 1, ...value })}\n`;
}

const strings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isPlainMap(value) && value.version === 1 ? value : undefined;
  } catch {
    // Unreadable: treated as no record, so nothing is removed on its account.
    return undefined;
  }
}

export function parseOwnedConfig(text: string | undefined): OwnedConfig | undefined {
  const value = parse(text);
  const keys = value?.keys;
  return Array.isArray(keys) && keys.every(strings) ? { keys } : undefined;
}

export function parseOwnedEnv(text: string | undefined): OwnedEnv | undefined {
  const value = parse(text);
  return value && strings(value.environment) && strings(value.secrets)
    ? { environment: value.environment, secrets: value.secrets }
    : undefined;
}

export function parseOwnedDocuments(text: string | undefined): OwnedDocuments | undefined {
  const value = parse(text);
  return value && strings(value.documents) ? { documents: value.documents } : undefined;
}

export function parseOwnedPlugins(text: string | undefined): OwnedPlugins | undefined {
  const value = parse(text);
  return value && strings(value.plugins) ? { plugins: value.plugins } : undefined;
}

/** The .env keys the fleet wrote before and the inventory no longer has, secrets marked. */
export function forgottenEnvKeys(h: HermesSettings, owned: OwnedEnv | undefined): Forgotten[] {
  if (!owned) return [];
  const now = new Set([...Object.keys(h.environment), ...Object.keys(h.secrets)]);
  const gone = (keys: readonly string[], secret: boolean): Forgotten[] =>
    keys.filter((key) => !now.has(key)).map((key) => ({ key, ...(secret ? { secret } : {}) }));
  return [...gone(owned.environment, false), ...gone(owned.secrets, true)];
}

/** The write of a record (as the account, 0600), or nothing when it already says `text`. */
export function ownedRecord(
  h: HermesSettings,
  path: string,
  fact: PathFact,
  text: string,
): Change[] {
  const change = planFile({
    path,
    fact,
    body: { text },
    attrs: ownedAttrs(h, OWNED_MODE),
    manage: 'content',
  });
  return change ? [withActor(h, change)] : [];
}
