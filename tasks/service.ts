import {
  formatMode,
  UNIT_PROCESS_STATES,
  type Attrs,
  type FactRequest,
  type HostFacts,
  type UnitFact,
} from '../src/facts/types.js';
import { allInstances, type HermesSettings, type HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change, TaskPlan } from '../src/plan/types.js';
import { pathFact, unitFact } from './lib/facts-access.js';
import { quote } from '../src/exec/quote.js';
import {
  PROFILE_FILE,
  SYSTEM_BIN_LINK,
  hermesPaths,
  unitFile,
  unitName,
  withActor,
} from './lib/layout.js';
import {
  containerFacts,
  containerLeftoverFacts,
  planContainerLeftovers,
  planContainerParts,
  renderContainerUnit,
} from './lib/container.js';
import type { ContainerPlan } from './lib/container.js';
import { currentGeneration, generationFacts, recordGeneration } from './lib/generations.js';
import { healthCheck } from './lib/health-check.js';
import { planFile } from './lib/plan-file.js';
import { restartReasons } from './lib/restart-reasons.js';
import {
  clearRestartPending,
  notesRestart,
  markRestartPending,
  restartIsPending,
  restartPendingFacts,
} from './lib/restart-pending.js';
import type { Task } from '../src/plan/task.js';
import { renderNativeUnit } from './lib/unit-file.js';
import { droppedInstanceFacts, planDroppedInstances } from './lib/dropped-instances.js';

export const UNIT_FILE_ATTRS: Attrs = { mode: 0o644, user: 'root', group: 'root' };

/**
 * `<package>/bin/hermes` must be an executable file. A symbolic link is accepted as it is: the
 * read sees the link, not its target, and the health check after a start catches a dangling one.
 */
function checkPackage(h: HermesSettings, facts: HostFacts): void {
  const bin = hermesPaths(h).bin;
  const fact = pathFact(facts, bin);
  const fix = `install hermes-agent so that ${bin} exists, or set package to the directory holding bin/hermes`;
  switch (fact.kind) {
    case 'symlink':
      return;
    case 'file':
      if ((fact.mode & 0o111) === 0) {
        throw new PlanError(`${bin} is not executable (mode ${formatMode(fact.mode)}): ${fix}`);
      }
      return;
    case 'absent':
      throw new PlanError(`${bin} does not exist: ${fix}`);
    default:
      throw new PlanError(`${bin} is not a regular file: ${fix}`);
  }
}

/**
 * `addToSystemPackages` puts the CLI on every login's PATH through /usr/local/bin. Turning it off
 * removes the link, as dropping a package from systemPackages does, but only a link that points
 * at this package: anything else there belongs to someone else.
 */
function planSystemLink(h: HermesSettings, facts: HostFacts, elsewhere: boolean): Change[] {
  // Another instance of the host owns the link: its plan keeps it.
  if (!h.addToSystemPackages && elsewhere) return [];
  const target = hermesPaths(h).bin;
  const before = pathFact(facts, SYSTEM_BIN_LINK);
  const ours = before.kind === 'symlink' && before.target === target;
  if (!h.addToSystemPackages) {
    return ours ? [{ kind: 'remove', path: SYSTEM_BIN_LINK, before }] : [];
  }
  if (ours) return [];
  if (before.kind !== 'absent' && before.kind !== 'symlink') {
    throw new PlanError(
      `${SYSTEM_BIN_LINK} exists and is not a symbolic link; remove it or set addToSystemPackages: false`,
    );
  }
  return [{ kind: 'symlink', path: SYSTEM_BIN_LINK, target, before }];
}

const PROFILE_HEADER = '# Managed by hermes-fleet (addToSystemPackages)';

/**
 * With `addToSystemPackages`, HERMES_HOME exported to every login shell (the module's
 * environment.variables), so people's CLI shares the gateway's state instead of making its own
 * ~/.hermes. Turned off, the file goes, but only the fleet's.
 */
function planProfile(h: HermesSettings, facts: HostFacts, elsewhere: boolean): Change[] {
  if (!h.addToSystemPackages && elsewhere) return [];
  const before = pathFact(facts, PROFILE_FILE);
  if (!h.addToSystemPackages) {
    const ours = before.kind === 'file' && (before.text ?? '').startsWith(PROFILE_HEADER);
    return ours ? [{ kind: 'remove', path: PROFILE_FILE, before }] : [];
  }
  // Not for root: root never works in the account's tree (the group can swap names there).
  const text = `${PROFILE_HEADER}; edits are overwritten.\n[ "$(id -u)" = 0 ] || export HERMES_HOME=${quote(hermesPaths(h).hermesHome)}\n`;
  const change = planFile({
    path: PROFILE_FILE,
    fact: before,
    body: { text },
    attrs: { mode: 0o644, user: 'root', group: 'root' },
    manage: 'content',
  });
  return change ? [change] : [];
}

/** `release 1a2b… -> 3c4d…`: a switch of this run, which the new unit runs. */
function releaseSwitches(earlier: readonly TaskPlan[]): string[] {
  return earlier.flatMap((plan) =>
    plan.changes.flatMap((c) =>
      c.kind === 'release-switch' ? [`release ${c.from ?? '(none)'} -> ${c.to}`] : [],
    ),
  );
}

function describeStopped(unit: UnitFact): string {
  if (unit.activeState === 'failed') return 'the unit had failed';
  if (unit.activeState === 'activating') {
    return `the unit was ${unit.subState || 'activating'}, not running`;
  }
  return 'the unit was not running';
}

/** What differs between the native and the container unit; the lifecycle is shared. */
interface Flavour {
  unitText: string;
  container: ContainerPlan;
  /** Another instance of the host sets addToSystemPackages: the link and the profile are its. */
  systemPackagesElsewhere: boolean;
}

function planLifecycle(
  h: HermesSettings,
  facts: HostFacts,
  earlier: readonly TaskPlan[],
  flavour: Flavour,
): Change[] {
  const unitNamed = unitName(h);
  const unitPath = unitFile(h);
  const unit = unitFact(facts, unitNamed);
  if (unit.loadState === 'masked' || unit.unitFileState === 'masked') {
    throw new PlanError(
      `${unitNamed} is masked on the host: unmask it (systemctl unmask ${unitNamed}) first`,
    );
  }
  const { container } = flavour;
  const changes: Change[] = [
    ...planSystemLink(h, facts, flavour.systemPackagesElsewhere),
    ...planProfile(h, facts, flavour.systemPackagesElsewhere),
    ...container.files,
  ];

  const unitChange = planFile({
    path: unitPath,
    fact: pathFact(facts, unitPath),
    body: { text: flavour.unitText },
    attrs: UNIT_FILE_ATTRS,
    manage: 'content',
  });
  const unitWritten = unitChange?.kind === 'file';

  let running = UNIT_PROCESS_STATES.has(unit.activeState);
  let startReason = describeStopped(unit);
  const teardown = container.teardown;
  if (teardown && running && (teardown.stop === 'always' || unitWritten)) {
    // Stopped before the unit file changes, so the definition that started the container (its
    // ExecStop) is the one that stops it; the container goes only once nothing runs in it.
    changes.push({ kind: 'systemd', action: 'stop', unit: unitNamed, reason: teardown.why });
    running = false;
    startReason = teardown.why;
  }

  if (unitChange) changes.push(unitChange);
  if (unitWritten) {
    changes.push({
      kind: 'systemd',
      action: 'daemon-reload',
      unit: unitNamed,
      reason: 'unit file changed',
    });
  } else if (unit.loadState === 'not-found') {
    // The file is right but systemd never read it (an earlier run stopped right after writing).
    changes.push({
      kind: 'systemd',
      action: 'daemon-reload',
      unit: unitNamed,
      reason: 'systemd has not loaded the unit file',
    });
  }
  if (unit.unitFileState !== 'enabled') {
    changes.push({ kind: 'systemd', action: 'enable', unit: unitNamed, reason: 'start at boot' });
  }

  if (teardown) changes.push(...teardown.changes);
  // The new identity only once the old container is gone, so an interrupted run retries.
  changes.push(...container.after);

  const pending = restartIsPending(h, facts);
  const changedHere = restartReasons(h, earlier);
  const reasons = [
    ...(unitWritten ? ['unit file changed', ...releaseSwitches(earlier)] : []),
    ...container.reasons,
    ...changedHere,
    ...(pending ? ['an earlier run changed what it reads and did not restart it'] : []),
  ];
  let action: 'start' | 'restart' | undefined;
  let reason = startReason;
  if (running && reasons.length > 0) {
    action = 'restart';
    reason = reasons.join(', ');
  } else if (!running || unit.activeState === 'activating') {
    action = 'start';
  }
  if (action && container.creates && !teardown) reason = `${reason}; ${container.creates}`;
  if (action) {
    changes.push({ kind: 'systemd', action, unit: unitNamed, reason });
    // A host whose unit file existed before this run had a gateway to go back to; a first
    // deploy has none, and is left as the run made it when the check fails.
    changes.push(
      healthCheck(h, {
        possible: pathFact(facts, unitPath).kind !== 'absent',
        generation: currentGeneration(h, facts),
      }),
    );
    // Something the gateway reads changed (now or in a run that stopped half-way), and it
    // passed its health check: that state is a generation.
    if (reasons.length > 0) changes.push(recordGeneration(h));
    if (pending || notesRestart(h, facts, earlier)) changes.push(clearRestartPending(h));
  }
  // The container identity lives in stateDir: who changes it is decided as for any such path.
  return changes.map((change) => withActor(h, change));
}

/**
 * The gateway as a systemd service, natively or in a container: the unit, systemd's view of it
 * (loaded, enabled, running), and a restart only when something the gateway reads changed in
 * this run, or an earlier run left a restart pending (restart-pending.ts).
 */
export const serviceTask: Task = {
  name: 'service',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    return [
      { kind: 'path', path: hermesPaths(h).bin },
      { kind: 'path', path: SYSTEM_BIN_LINK },
      { kind: 'path', path: PROFILE_FILE, content: true },
      { kind: 'path', path: unitFile(h), content: true },
      { kind: 'unit', name: unitName(h) },
      ...restartPendingFacts(h),
      ...generationFacts(h),
      ...(h.container.enable ? containerFacts(h) : containerLeftoverFacts(h)),
      ...droppedInstanceFacts(host),
    ];
  },

  amend(host: HostSpec, facts: HostFacts, plans: readonly TaskPlan[]): TaskPlan[] {
    return markRestartPending(host.hermes, facts, plans);
  },

  plan(host: HostSpec, facts: HostFacts, earlier: readonly TaskPlan[]): Change[] {
    // Instances the inventory no longer has are taken down first (their ports freed), by the
    // host's first instance (tasks/lib/dropped-instances.ts).
    return [...planDroppedInstances(host, facts), ...planInstanceService(host, facts, earlier)];
  },
};

function planInstanceService(
  host: HostSpec,
  facts: HostFacts,
  earlier: readonly TaskPlan[],
): Change[] {
  const h = host.hermes;
  // The CLI link and the login shells' HERMES_HOME are one per host: another instance's to keep.
  const systemPackagesElsewhere = allInstances(host).some(
    (other) => other !== h && other.addToSystemPackages,
  );
  // A release is checked whole by the release task (and unpacked by it on a fresh host).
  if (!h.release) checkPackage(h, facts);
  if (!h.container.enable) {
    return planLifecycle(h, facts, earlier, {
      systemPackagesElsewhere,
      unitText: renderNativeUnit(h),
      // The shared entrypoint stays while another instance runs in a container.
      container: planContainerLeftovers(
        h,
        facts,
        allInstances(host).some((other) => other.container.enable),
      ),
    });
  }
  return planLifecycle(h, facts, earlier, {
    systemPackagesElsewhere,
    unitText: renderContainerUnit(h),
    container: planContainerParts(h, facts),
  });
}
