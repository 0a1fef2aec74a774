import { createHash } from 'node:crypto';
import { shortImageId } from '../../src/inventory/image-archive.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import { hermesPaths } from './layout.js';

/**
 * Bump when the create command changes shape (mounts, environment, entrypoint, flags), so every
 * host recreates its container once. 1 was never released: it recorded the hash alone.
 */
export const IDENTITY_SCHEMA = 2;

/**
 * Everything `create` bakes into the container, by the inventory's names. The module hashes
 * image, extraVolumes and extraOptions only; the command line (extraArgs, package) and the
 * paths are baked in just the same, so a change to them must recreate the container too.
 */
export interface IdentityInputs {
  schema: number;
  'container.backend': string;
  'container.image': string;
  /**
   * With `container.imageArchive`: the id of the image in it, so new content under the same
   * tag recreates the container. Absent without one, which keeps every other host's hash.
   */
  'container.imageId'?: string;
  'container.extraVolumes': string[];
  'container.extraOptions': string[];
  /**
   * With `extraPlugins`: the plugin store is mounted (its content may change without a
   * recreation). Absent without plugins, which keeps every other host's hash.
   */
  pluginStore?: boolean;
  extraArgs: string[];
  user: string;
  package: string;
  stateDir: string;
  workingDirectory: string;
}

/** What a host's identity file says. */
export interface RecordedIdentity {
  hash: string;
  /** Absent when the file holds no readable inputs (hand-edited, or schema 1). */
  inputs?: RecordedInputs;
}

type RecordedInputs = Partial<Record<keyof IdentityInputs, unknown>>;

export function identityInputs(h: HermesSettings): IdentityInputs {
  const p = hermesPaths(h);
  return {
    schema: IDENTITY_SCHEMA,
    'container.backend': h.container.backend,
    'container.image': h.container.image,
    ...(h.container.imageArchive ? { 'container.imageId': h.container.imageArchive.id } : {}),
    'container.extraVolumes': h.container.extraVolumes,
    'container.extraOptions': h.container.extraOptions,
    ...(h.extraPlugins.length > 0 ? { pluginStore: true } : {}),
    extraArgs: h.extraArgs,
    user: h.user,
    package: p.bin.slice(0, -'/bin/hermes'.length),
    stateDir: p.stateDir,
    workingDirectory: p.workingDirectory,
  };
}

export function identityHash(inputs: IdentityInputs): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

/**
 * The identity file: the hash on the first line (what decides), then the inputs it was made
 * from, one per line, so a plan can name what changed and `--diff` shows it line by line.
 */
export function renderIdentity(inputs: IdentityInputs): string {
  return `${identityHash(inputs)}\n${JSON.stringify(inputs, null, 2)}\n`;
}

export function parseIdentity(text: string): RecordedIdentity {
  const newline = text.indexOf('\n');
  const hash = (newline < 0 ? text : text.slice(0, newline)).trim();
  try {
    const inputs: unknown = JSON.parse(text.slice(newline + 1));
    if (typeof inputs === 'object' && inputs !== null && !Array.isArray(inputs)) {
      return { hash, inputs };
    }
  } catch {
    // no inputs: only the hash can be compared
  }
  return { hash };
}

function shown(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : 'nothing';
}

/** An image id is long: said by its 12 first hex digits, as the runtimes list it. */
function shownValue(key: keyof IdentityInputs, value: unknown): string {
  return key === 'container.imageId' && typeof value === 'string'
    ? shortImageId(value)
    : shown(value);
}

/**
 * Why a recorded identity differs from the one wanted, naming the inputs that changed. Lists
 * are only named: their values can be long (and an option may carry a token), and `--diff`
 * shows them in the identity file's diff anyway.
 */
export function describeIdentityChange(
  recorded: RecordedIdentity | undefined,
  wanted: IdentityInputs,
): string {
  if (!recorded) return 'no identity was recorded for it';
  const before = recorded.inputs;
  if (!before) return 'its recorded identity names no inputs';
  const changed: string[] = [];
  const keys = Object.keys(wanted) as (keyof IdentityInputs)[];
  // The optional inputs: dropping one changes the identity as much as adding it.
  for (const optional of ['container.imageId', 'pluginStore'] as const) {
    if (!(optional in wanted) && optional in before) keys.push(optional);
  }
  for (const key of keys) {
    const value: unknown = wanted[key];
    const old = before[key];
    if (JSON.stringify(old) === JSON.stringify(value)) continue;
    if (key === 'schema') {
      changed.push(
        `hermes-fleet's container layout changed (schema ${shown(old)} → ${shown(value)})`,
      );
    } else if (Array.isArray(value)) {
      changed.push(`${key} changed`);
    } else {
      changed.push(`${key} ${shownValue(key, old)} → ${shownValue(key, value)}`);
    }
  }
  return changed.length > 0
    ? changed.join(', ')
    : 'its recorded identity does not match its inputs';
}
