import { describePathKind, type FactRequest, type HostFacts } from '../src/facts/types.js';
import { DOCUMENT_KEY } from '../src/inventory/document-keys.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { pathFact } from './lib/facts-access.js';
import {
  hermesPaths,
  ownedAttrs,
  treeDirMode,
  readPath,
  serviceTrees,
  withActor,
  isUnder,
} from './lib/layout.js';
import { attrsDiffer } from './lib/plan-file.js';
import type { Task } from '../src/plan/task.js';

export const DIR_MODE = 0o750;

/**
 * HERMES_HOME's subdirectories a managed hermes refuses to start without (and won't create), and
 * `plugins`, which the module keeps as well (the fleet links extraPlugins there).
 */
export const HERMES_HOME_SUBDIRS = ['cron', 'sessions', 'logs', 'memories', 'plugins'] as const;

/**
 * Every managed directory, each once, parents before children: `workingDirectory` may sit
 * anywhere (inside stateDir, or elsewhere), so order by depth rather than by list position.
 */
export function managedDirs(h: HermesSettings): string[] {
  const p = hermesPaths(h);
  const all = [
    p.stateDir,
    p.hermesHome,
    p.homeDir,
    p.workingDirectory,
    ...HERMES_HOME_SUBDIRS.map((d) => `${p.hermesHome}/${d}`),
  ];
  const depth = (path: string) => path.split('/').length;
  return [...new Set(all)].sort((a, b) => depth(a) - depth(b));
}

/**
 * The directories a nested document needs between stateDir and the file that the dirs task does
 * not keep already, parents first, each once: created as the account, with the mode of the
 * account's other directories, when absent.
 */
export function documentDirs(h: HermesSettings): string[] {
  const stateDir = hermesPaths(h).stateDir;
  const kept = new Set(managedDirs(h));
  const dirs = new Set<string>();
  for (const key of Object.keys(h.documents)) {
    if (!key.includes('/') || !DOCUMENT_KEY.test(key)) continue;
    const parts = key.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `${stateDir}/${parts.slice(0, i).join('/')}`;
      if (!kept.has(dir)) dirs.add(dir);
    }
  }
  return [...dirs];
}

export const dirsTask: Task = {
  name: 'dirs',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    return [
      ...managedDirs(h).flatMap((path): FactRequest[] => [
        readPath(h, { path }),
        ...(inTree(h, path) ? [tempFiles(h, path)] : []),
      ]),
      // The nested documents' own directories (the docs task makes them): swept the same way.
      ...documentDirs(h).map((path) => tempFiles(h, path)),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const p = hermesPaths(host.hermes);
    const changes: Change[] = [];
    for (const path of managedDirs(host.hermes)) {
      // `home` stays 0750, as in the module: it is the container user's own home.
      const attrs = ownedAttrs(
        host.hermes,
        path === p.homeDir && path !== p.workingDirectory ? DIR_MODE : treeDirMode(host.hermes),
      );
      const before = pathFact(facts, path);
      if (before.kind === 'absent') {
        changes.push({ kind: 'dir', path, attrs, before });
      } else if (before.kind !== 'dir') {
        throw new PlanError(
          `${path} is ${describePathKind(before)}, not a directory; move it out of the way (or point stateDir/workingDirectory at the real directory) and run again`,
        );
      } else if (attrsDiffer(before, attrs)) {
        changes.push({ kind: 'dir', path, attrs, before });
      }
    }
    changes.push(...leftovers(host.hermes, facts));
    return changes.map((change) => withActor(host.hermes, change));
  },
};

function tempFiles(h: HermesSettings, dir: string): FactRequest {
  return { kind: 'temp-files', dir, as: h.user };
}

function inTree(h: HermesSettings, path: string): boolean {
  return serviceTrees(h).some((top) => isUnder(path, top));
}

/** What mktemp makes (apply.sh): anything else by that prefix is left alone. */
const TEMP_FILE = /^\.hermes-fleet\.[A-Za-z0-9.]+$/;

/**
 * The temporary files a run that was killed left in the managed directories: removed by the
 * next run (a run that ends any other way removes its own).
 */
function leftovers(h: HermesSettings, facts: HostFacts): Change[] {
  return [...managedDirs(h), ...documentDirs(h)].flatMap((dir) =>
    (facts.tempFiles?.get(dir) ?? [])
      .filter((name) => TEMP_FILE.test(name))
      .map((name): Change => ({
        kind: 'remove',
        path: `${dir}/${name}`,
        before: { kind: 'absent' },
      })),
  );
}
