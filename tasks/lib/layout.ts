import { posix } from 'node:path';
import type { Attrs } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';

export const UNIT_NAME = 'hermes-agent.service';
export const UNIT_FILE = `/etc/systemd/system/${UNIT_NAME}`;
export const SYSTEM_BIN_LINK = '/usr/local/bin/hermes';

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
