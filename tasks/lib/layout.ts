import { posix } from 'node:path';
import type { Attrs, FactRequest, PathFact } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change } from '../../src/plan/types.js';

/** The unit of `hermes:` alone (no instances), unchanged since before instances existed. */
export const UNIT_NAME = 'hermes-agent.service';
export const UNIT_FILE = `/etc/systemd/system/${UNIT_NAME}`;
export const SYSTEM_BIN_LINK = '/usr/local/bin/hermes';
/** HERMES_HOME for every login shell, as the module's environment.variables. */
export const PROFILE_FILE = '/etc/profile.d/hermes-fleet.sh';
/** Root's record of each healthy change (see the `generation` change), for `hermes:` alone. */
export const GENERATIONS_DIR = '/var/lib/hermes-fleet/generations';
/** Holds the number of the generation the host is on. */
export const CURRENT_GENERATION = `${GENERATIONS_DIR}/current`;
/** Root's own record per named instance (its generations), under /var/lib/hermes-fleet. */
export const INSTANCES_DIR = '/var/lib/hermes-fleet/instances';

/** The instance's systemd unit: `hermes-agent-<name>.service`, or UNIT_NAME for `hermes:` alone. */
export function unitName(h: Pick<HermesSettings, 'instance'>): string {
  return h.instance === undefined ? UNIT_NAME : `hermes-agent-${h.instance}.service`;
}

export function unitFile(h: Pick<HermesSettings, 'instance'>): string {
  return `/etc/systemd/system/${unitName(h)}`;
}

/** Where the instance's generations are kept: each instance has its own, and its own rollback. */
export function generationsDir(h: Pick<HermesSettings, 'instance'>): string {
  return h.instance === undefined ? GENERATIONS_DIR : `${INSTANCES_DIR}/${h.instance}/generations`;
}

/** Holds the number of the generation the instance is on. */
export function currentGenerationFile(h: Pick<HermesSettings, 'instance'>): string {
  return `${generationsDir(h)}/current`;
}

/** Where everything lives on a host, derived once so every task agrees on the same paths. */
export interface HermesPaths {
  stateDir: string;
  /** `<stateDir>/.hermes`: HERMES_HOME. */
  hermesHome: string;
  /** `<stateDir>/home`: the container user's home (kept in native mode too, as the module does). */
  homeDir: string;
  workingDirectory: string;
  configYaml: string;
  /** Where an unparsable config.yaml is kept before it is replaced. */
  configBackup: string;
  managedMarker: string;
  envFile: string;
  authJson: string;
  /** `<package>/bin/hermes`. */
  bin: string;
}

/** A host path without a trailing slash or `.`/`..` segments, so prefix checks are reliable. */
export function normalizePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

export function hermesPaths(h: HermesSettings): HermesPaths {
  const stateDir = normalizePath(h.stateDir);
  const hermesHome = `${stateDir}/.hermes`;
  return {
    stateDir,
    hermesHome,
    homeDir: `${stateDir}/home`,
    workingDirectory: normalizePath(h.workingDirectory),
    configYaml: `${hermesHome}/config.yaml`,
    configBackup: `${hermesHome}/config.yaml.broken`,
    managedMarker: `${hermesHome}/.managed`,
    envFile: `${hermesHome}/.env`,
    authJson: `${hermesHome}/auth.json`,
    bin: `${normalizePath(h.package)}/bin/hermes`,
  };
}

/**
 * Where document `key` lands: a plain name in workingDirectory, a key with a directory relative
 * to stateDir (`.hermes/SOUL.md` in HERMES_HOME), as the NixOS module puts them.
 */
export function documentPath(h: HermesSettings, key: string): string {
  return key.includes('/')
    ? `${normalizePath(h.stateDir)}/${key}`
    : `${normalizePath(h.workingDirectory)}/${key}`;
}

/**
 * Whether people on the host share the gateway's HERMES_HOME (`addToSystemPackages`: the CLI on
 * every PATH and HERMES_HOME exported system-wide; `container.hostUsers`: people in its group). Then the module's shared-state modes apply:
 * setgid, group-writable directories, config.yaml 0660, .env 0640, the unit's UMask=0007, so what
 * either side writes the other can read and change. Without it the stricter modes stay.
 */
export function sharesState(h: HermesSettings): boolean {
  return h.addToSystemPackages || h.container.hostUsers.length > 0;
}

/** A directory of the account's tree: 2770 when shared (the module's), else 0750. */
export function treeDirMode(h: HermesSettings): number {
  return sharesState(h) ? 0o2770 : 0o750;
}

/** Owned by the service account with `mode`. */
export function ownedAttrs(h: HermesSettings, mode: number): Attrs {
  return { mode, user: h.user, group: h.group };
}

export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/**
 * The trees the service account owns, top first: stateDir, and workingDirectory when it lies
 * outside stateDir. Inside them the account can rename anything, so root neither reads nor
 * writes there (see Actor in src/changes/record.ts): the account does.
 */
export function serviceTrees(h: HermesSettings): string[] {
  const p = hermesPaths(h);
  return isUnder(p.workingDirectory, p.stateDir) ? [p.stateDir] : [p.stateDir, p.workingDirectory];
}

function treeOf(h: HermesSettings, path: string): string | undefined {
  return serviceTrees(h).find((top) => isUnder(path, top));
}

/**
 * A path read as the service account when it lies inside one of its trees (below the top,
 * whose parent is root's): root never opens a name the account could have swapped.
 */
export function readPath(
  h: HermesSettings,
  request: Omit<Extract<FactRequest, { kind: 'path' }>, 'kind' | 'as' | 'tree'>,
): FactRequest {
  const top = treeOf(h, request.path);
  if (top === undefined || request.path === top) return { kind: 'path', ...request };
  // Content another account owns there is read by root, pinned to the tree (read.sh).
  return { kind: 'path', ...request, as: h.user, ...(request.content ? { tree: top } : {}) };
}

function ownedByOther(h: HermesSettings, before: PathFact): boolean {
  return before.kind !== 'absent' && before.user !== h.user;
}

/**
 * Who makes a change to a path (see Actor): inside the account's trees, the account itself;
 * root only for the top of a tree (its parent is root's), to hand over a directory or file
 * that someone else owns (the account cannot chown it), and for files that stay root's on
 * purpose (the container identity): then root works in the pinned parent directory. Outside
 * those trees: root.
 */
export function withActor(h: HermesSettings, change: Change): Change {
  if (
    change.kind !== 'dir' &&
    change.kind !== 'file' &&
    change.kind !== 'attrs' &&
    change.kind !== 'symlink' &&
    change.kind !== 'remove'
  ) {
    return change;
  }
  const top = treeOf(h, change.path);
  if (top === undefined) return change;
  if (change.path === top) return { ...change, tree: top };
  const rootOwned = 'attrs' in change && change.attrs.user !== h.user;
  // Replacing a file or removing a name needs only the directory, which is the account's.
  const handsOver =
    (change.kind === 'dir' || change.kind === 'attrs') && ownedByOther(h, change.before);
  return rootOwned || handsOver ? { ...change, tree: top } : { ...change, as: h.user };
}
