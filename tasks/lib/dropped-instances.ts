import type { FactRequest, HostFacts, PathFact } from '../../src/facts/types.js';
import { allInstances, type HermesSettings, type HostSpec } from '../../src/inventory/types.js';
import { PlanError, type Change } from '../../src/plan/types.js';
import { pathFact, unitFact } from './facts-access.js';
import { containerName, createFile, CONTAINER_NAME, CREATE_FILE } from './container.js';
import {
  INSTANCES_DIR,
  UNIT_FILE,
  UNIT_NAME,
  hermesPaths,
  isUnder,
  serviceTrees,
  unitName,
} from './layout.js';

/**
 * Root's record of the named instances the fleet put on a host: what it needs to take one down
 * once the inventory no longer has it (its unit, its container), without reading anything about
 * it first: the name of a dropped instance is learnt from this file in the same read, too late
 * to ask for facts about it. `hermes:` alone needs no record (its names are fixed).
 */
export const INSTANCES_RECORD = '/var/lib/hermes-fleet/instances.json';

interface RecordedInstance {
  unit: string;
  stateDir: string;
  workingDirectory: string;
  container: { backend: 'docker' | 'podman'; name: string; createFile: string } | null;
  /** Taken down (no longer in the inventory); its state is kept until a purge. */
  removed?: boolean;
}

interface InstancesRecord {
  version: 1;
  instances: Record<string, RecordedInstance>;
}

function recordOf(h: HermesSettings): RecordedInstance {
  const p = hermesPaths(h);
  return {
    unit: unitName(h),
    stateDir: p.stateDir,
    workingDirectory: p.workingDirectory,
    container: h.container.enable
      ? { backend: h.container.backend, name: containerName(h), createFile: createFile(h) }
      : null,
  };
}

function readRecord(facts: HostFacts): InstancesRecord | undefined {
  const fact = pathFact(facts, INSTANCES_RECORD);
  if (fact.kind !== 'file') return undefined;
  try {
    const parsed = JSON.parse(fact.text ?? '') as Partial<InstancesRecord>;
    return parsed.version === 1 && typeof parsed.instances === 'object'
      ? (parsed as InstancesRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The planner of the teardown: the host's first instance, and only when no --instance narrows it. */
export function plansTeardown(host: HostSpec): boolean {
  return host.onlyInstances === undefined && host.hermes === allInstances(host)[0];
}

export function droppedInstanceFacts(host: HostSpec): FactRequest[] {
  if (!plansTeardown(host)) return [];
  return [
    { kind: 'path', path: INSTANCES_RECORD, content: true },
    // With instances, the unit of hermes: alone (a host deployed before) may be left over.
    ...(host.instances
      ? [
          { kind: 'path', path: UNIT_FILE, content: true } as const,
          { kind: 'unit', name: UNIT_NAME } as const,
          { kind: 'path', path: CREATE_FILE } as const,
        ]
      : []),
  ];
}

/**
 * What is at a dropped instance's paths is not read (its name comes from the record, in the same
 * read): `rm -f` needs nothing, and the report says `remove PATH`.
 */
const NOT_READ: PathFact = { kind: 'absent' };

const why = (name: string) => `instance ${name} is no longer in the inventory`;

/** The unit of hermes: alone, on a host whose inventory now names instances. */
function planDefaultLeftover(host: HostSpec, facts: HostFacts): Change[] {
  if (!host.instances) return [];
  const file = pathFact(facts, UNIT_FILE);
  // Only a unit this fleet wrote: anything else there is someone's.
  if (file.kind !== 'file' || !(file.text ?? '').startsWith('# Managed by hermes-fleet')) return [];
  const reason = 'hermes: alone is no longer the instance: the inventory names instances';
  const unit = unitFact(facts, UNIT_NAME);
  const changes: Change[] = [];
  if (unit.loadState !== 'not-found') {
    changes.push({ kind: 'systemd', action: 'stop', unit: UNIT_NAME, reason });
    if (unit.unitFileState === 'enabled') {
      changes.push({ kind: 'systemd', action: 'disable', unit: UNIT_NAME, reason });
    }
  }
  const backend = /^ExecStart=(docker|podman) start -a hermes-agent$/m.exec(file.text ?? '')?.[1];
  if (backend === 'docker' || backend === 'podman') {
    changes.push({ kind: 'container-remove', backend, name: CONTAINER_NAME, reason });
    const create = pathFact(facts, CREATE_FILE);
    if (create.kind === 'file') {
      changes.push({ kind: 'remove', path: CREATE_FILE, before: create, why: reason });
    }
  }
  changes.push(
    { kind: 'remove', path: UNIT_FILE, before: file, why: reason },
    { kind: 'systemd', action: 'daemon-reload', unit: UNIT_NAME, reason },
  );
  return changes;
}

/**
 * An instance the inventory no longer has is stopped, disabled, its container and unit removed;
 * its state directory is kept (sessions and memories are the user's), and so is its entry in the
 * record, marked removed, until `--purge-removed-instances` deletes that state. The record is rewritten
 * after the stop and before the removals: a run cut off before it stops the unit again next time
 * (the unit file is still there), one cut off after it leaves at most a stopped, disabled unit
 * file. A host that never had instances plans nothing.
 */
export function planDroppedInstances(host: HostSpec, facts: HostFacts): Change[] {
  if (!plansTeardown(host)) return [];
  const recorded = readRecord(facts)?.instances ?? {};
  const next: Record<string, RecordedInstance> = Object.fromEntries(
    allInstances(host).flatMap((h) =>
      h.instance === undefined ? [] : [[h.instance, recordOf(h)]],
    ),
  );
  const stops: Change[] = [];
  const removals: Change[] = [];
  const torn: string[] = [];
  for (const [name, r] of Object.entries(recorded)) {
    if (name in next) continue;
    if (r.removed !== true) {
      torn.push(r.unit);
      stops.push(...teardownStops(name, r));
      removals.push(...teardownRemovals(name, r));
    }
    // Kept in the record once taken down, so a later --purge-removed-instances finds its state.
    if (host.purgeRemovedInstances === true) removals.push(...purge(host, name, r));
    else next[name] = { ...r, removed: true };
  }
  if (torn.length > 0) {
    removals.push({
      kind: 'systemd',
      action: 'daemon-reload',
      unit: torn[0] ?? UNIT_NAME,
      reason: 'units removed',
    });
  }
  const record = recordChange(facts, next);
  return [...planDefaultLeftover(host, facts), ...stops, ...record, ...removals];
}

function teardownStops(name: string, r: RecordedInstance): Change[] {
  return [
    { kind: 'systemd', action: 'stop', unit: r.unit, reason: why(name) },
    { kind: 'systemd', action: 'disable', unit: r.unit, reason: why(name) },
  ];
}

function teardownRemovals(name: string, r: RecordedInstance): Change[] {
  return [
    ...(r.container
      ? [
          {
            kind: 'container-remove',
            backend: r.container.backend,
            name: r.container.name,
            reason: why(name),
          } as const,
          {
            kind: 'remove',
            path: r.container.createFile,
            before: NOT_READ,
            why: why(name),
          } as const,
        ]
      : []),
    { kind: 'remove', path: `/etc/systemd/system/${r.unit}`, before: NOT_READ, why: why(name) },
  ];
}

function recordChange(facts: HostFacts, wanted: Record<string, RecordedInstance>): Change[] {
  const before = pathFact(facts, INSTANCES_RECORD);
  const names = Object.keys(wanted).sort();
  if (names.length === 0) {
    return before.kind === 'file'
      ? [{ kind: 'remove', path: INSTANCES_RECORD, before, why: 'no instances left' }]
      : [];
  }
  const body: InstancesRecord = {
    version: 1,
    instances: Object.fromEntries(names.map((n) => [n, wanted[n] as RecordedInstance])),
  };
  const text = `${JSON.stringify(body, null, 2)}\n`;
  if (before.kind === 'file' && before.text === text) return [];
  return [
    {
      kind: 'file',
      path: INSTANCES_RECORD,
      body: { text },
      attrs: { mode: 0o600, user: 'root', group: 'root' },
      before,
    },
  ];
}

/**
 * `--purge-removed-instances`: the dropped instance's state directory (and a working directory
 * outside it) removed whole, and its generations. Refused when one of them overlaps a tree an
 * instance of the inventory uses (a renamed instance that kept its stateDir): that is live data.
 */
function purge(host: HostSpec, name: string, r: RecordedInstance): Change[] {
  const why = `the state of instance ${name}, which is no longer in the inventory: --purge-removed-instances`;
  const live = allInstances(host).flatMap((h) => serviceTrees(h));
  const trees = isUnder(r.workingDirectory, r.stateDir)
    ? [r.stateDir]
    : [r.stateDir, r.workingDirectory];
  for (const tree of trees) {
    const clash = live.find((t) => isUnder(t, tree) || isUnder(tree, t));
    if (!tree.startsWith('/') || tree === '/' || clash !== undefined) {
      throw new PlanError(
        `not purging ${tree} of instance ${name}: ${clash === undefined ? 'not a directory that can be purged' : `an instance of the inventory uses ${clash}`}`,
      );
    }
  }
  return [
    ...trees.map((path): Change => ({ kind: 'tree-remove', path, why })),
    {
      kind: 'tree-remove',
      path: `${INSTANCES_DIR}/${name}`,
      why: `the generations of instance ${name}`,
    },
  ];
}
