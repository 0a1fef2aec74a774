import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import type { RecordContext } from '../apply/encode-ops.js';

/** hermes-fleet's own version: package.json, found upwards from this file (source or bundle). */
export function fleetVersion(): string {
  for (const up of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'hermes-fleet' && pkg.version !== undefined) return pkg.version;
    } catch {
      // Not at this level: look one higher.
    }
  }
  return 'unknown';
}

/**
 * What each generation a run records says about the run: the control machine's user@host, the
 * hermes-fleet version, and the sha256 of every inventory file (names only, never content).
 */
export function recordContext(inventoryFiles: readonly string[]): RecordContext {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers): the host name still says where.
  }
  return {
    who: `${user}@${hostname()}`,
    version: fleetVersion(),
    inventory: inventoryFiles.map((file) => ({
      file: basename(file),
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
    })),
  };
}
