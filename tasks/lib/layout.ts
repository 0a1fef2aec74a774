import { posix } from 'node:path';
import type { Attrs, FactRequest, PathFact } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change } from '../../src/plan/types.js';

export const UNIT_NAME = 'hermes-agent.service';
export const UNIT_FILE = `/etc/systemd/system/${UNIT_NAME}`;
export const SYSTEM_BIN_LINK = '/usr/local/bin/hermes';
/** Root's record of each healthy change (see the `generation` change). */
export const GENERATIONS_DIR = '/var/lib/hermes-fleet/generations';
/** Holds the number of the generation the host is on. */
export const CURRENT_GENERATION = `${GENERATIONS_DIR}/current`;

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

export function documentPath(h: HermesSettings, name: string): string {
  return `${normalizePath(h.workingDirectory)}/${name}`;
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
