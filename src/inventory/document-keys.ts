import * as path from 'node:path';
import { UserError } from '../errors.js';
import type { LayerMap } from './layer.js';

/**
 * A document's key: a plain file name (it lands in workingDirectory), or a path relative to
 * stateDir (`.hermes/SOUL.md`), as the NixOS module reads it: components separated by single
 * slashes, none empty, "." or "..", so the key cannot leave the account's tree by its spelling.
 */
export const DOCUMENT_KEY = /^(?:(?!\.\.?(?:\/|$))[^/\0\n\r\t]+\/)*(?!\.\.?$)[^/\0\n\r\t]+$/;

/**
 * Where a document's key puts it on the host, as the NixOS module reads it: a plain file name
 * keeps its old place in workingDirectory; a key with a directory is a path relative to stateDir
 * (`.hermes/SOUL.md` lands in HERMES_HOME). The schema already refused `..`, `.`, empty
 * components and a leading `/` (DOCUMENT_KEY), so the result always lies inside the tree.
 */
export function documentTarget(
  dirs: { stateDir: string; workingDirectory: string },
  key: string,
): string {
  const base = key.includes('/') ? dirs.stateDir : dirs.workingDirectory;
  return path.posix.join(path.posix.normalize(base), key);
}

/**
 * What other tasks write in stateDir, relative to it: a document there would fight them on
 * every run (or, under `plugins/`, go through a link the fleet makes), so it is refused at load
 * time. Directories the fleet keeps are refused as a document's own path (a file cannot be one).
 */
const FLEET_FILES = [
  '.hermes/config.yaml',
  '.hermes/config.yaml.broken',
  '.hermes/.env',
  '.hermes/auth.json',
  '.hermes/.managed',
  '.hermes/.container-mode',
  '.container-identity',
];
const FLEET_DIRS = [
  '.hermes',
  'home',
  '.hermes/cron',
  '.hermes/sessions',
  '.hermes/logs',
  '.hermes/memories',
  '.hermes/plugins',
];

function fleetUse(relative: string): string | undefined {
  if (FLEET_FILES.includes(relative)) return 'a file hermes-fleet writes from other settings';
  if (/^\.hermes\/\.fleet-owned-[^/]*$/.test(relative)) return "hermes-fleet's own record";
  if (FLEET_DIRS.includes(relative)) return 'a directory hermes-fleet keeps';
  if (/^\.hermes\/plugins\/[^/]+\//.test(relative)) {
    return 'inside a plugin (plugins are installed whole, from extraPlugins)';
  }
  if (/^\.hermes\/plugins\/fleet-managed-[^/]*$/.test(relative)) {
    return "the name of a plugin's link (extraPlugins)";
  }
  if (relative.startsWith('.hermes-fleet.') || /\/\.hermes-fleet\./.test(relative)) {
    return "the prefix of hermes-fleet's temporary files";
  }
  return undefined;
}

/**
 * Why a document key may not be a document of this host (a path the fleet manages otherwise),
 * or undefined: the docs task asks it too of the names its record on the host gives, which the
 * account (or, with shared state, its group) could have edited.
 */
export function documentKeyConflict(
  dirs: { stateDir: string; workingDirectory: string },
  key: string,
): string | undefined {
  const relative = path.posix.relative(
    path.posix.normalize(dirs.stateDir),
    documentTarget(dirs, key),
  );
  return relative.startsWith('..') ? undefined : fleetUse(relative);
}

/**
 * Load-time checks of the documents' keys that need the final stateDir and workingDirectory:
 * two keys that land on one file (`AGENTS.md` and `workspace/AGENTS.md` with the default
 * workingDirectory), and a key on a path the fleet manages otherwise. Each is refused with the
 * key's file:line.
 */
export function checkDocumentKeys(
  dirs: { stateDir: string; workingDirectory: string },
  documents: LayerMap | undefined,
): void {
  const seen = new Map<string, string>();
  for (const [key, entry] of documents?.entries ?? []) {
    const target = documentTarget(dirs, key);
    const location = entry.origin.location;
    const other = seen.get(target);
    if (other !== undefined) {
      throw new UserError(
        `documents ${JSON.stringify(key)} and ${JSON.stringify(other)} both land on ${target}`,
        location,
        'keep one of them (a file name is installed in workingDirectory, a path with a directory relative to stateDir)',
      );
    }
    seen.set(target, key);
    // A key that is another key's directory: the plan would make a directory and a file at
    // one path, and the apply would fail half-way.
    for (const [otherTarget, otherKey] of seen) {
      const [outer, inner] =
        otherTarget.length < target.length ? [otherTarget, target] : [target, otherTarget];
      if (otherTarget === target || !inner.startsWith(`${outer}/`)) continue;
      throw new UserError(
        `documents ${JSON.stringify(key)} and ${JSON.stringify(otherKey)}: ${outer} would be both a file and a directory`,
        location,
        'keep one of them, or move the file',
      );
    }
    const use = documentKeyConflict(dirs, key);
    if (use !== undefined) {
      throw new UserError(
        `document ${JSON.stringify(key)} would be ${target}, ${use}`,
        location,
        'choose another path for the document',
      );
    }
  }
}
