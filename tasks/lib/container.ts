import { InternalError } from '../../src/errors.js';
import type { Attrs, FactRequest, HostFacts } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import { PlanError } from '../../src/plan/types.js';
import type { Change } from '../../src/plan/types.js';
import { commandFact, containerFact, pathFact } from './facts-access.js';
import { hermesPaths, isUnder, readPath } from './layout.js';
import {
  describeIdentityChange,
  identityHash,
  identityInputs,
  parseIdentity,
  renderIdentity,
} from './container-identity.js';
import type { RecordedIdentity } from './container-identity.js';
import { attrsDiffer, planFile } from './plan-file.js';
import { quote as shellQuote } from '../../src/exec/quote.js';
import { shortImageId } from '../../src/inventory/image-archive.js';
import { systemdQuote } from './systemd-quote.js';
import ENTRYPOINT_SH from './container-entrypoint.sh';

/**
 * Container mode, as the module's MODE B: the gateway runs in a container `hermes-agent` that a
 * systemd unit starts (`start -a`) and stops. The container is created by a script the unit runs
 * before each start, only when it does not exist; it is removed (and so recreated) only when its
 * identity changed: a hash of everything `create` is given, kept in `<stateDir>/.container-identity`.
 *
 * Unlike the module, the entrypoint and the create script live root-owned outside stateDir
 * (which the service account can write), so the account cannot change what runs as root in the
 * container; and the entrypoint does not provision apt/uv/venv tools on first boot: no network
 * is assumed inside the container, so the image must already hold what the gateway needs.
 * Nothing is pulled either: the image must be on the host before the run (the plan checks), or
 * come with the run from `container.imageArchive`, uploaded and loaded when the host lacks it.
 */

export const CONTAINER_NAME = 'hermes-agent';
export const FLEET_LIB_DIR = '/usr/local/lib/hermes-fleet';
/** Shared by every instance in container mode (the same bytes for each). */
export const ENTRYPOINT_FILE = `${FLEET_LIB_DIR}/container-entrypoint`;
export const CREATE_FILE = `${FLEET_LIB_DIR}/container-create`;
/**
 * Root's store of plugin trees (tasks/plugins.ts), beside the scripts: mounted read-only at its
 * own path into a container that has plugins, so the links in HERMES_HOME/plugins resolve there.
 */
export const PLUGIN_STORE = `${FLEET_LIB_DIR}/plugins`;

/** The instance's container: `hermes-agent-<name>`, or `hermes-agent` for `hermes:` alone. */
export function containerName(h: Pick<HermesSettings, 'instance'>): string {
  return h.instance === undefined ? CONTAINER_NAME : `${CONTAINER_NAME}-${h.instance}`;
}

/** The instance's create script (its name, volumes and options are its own). */
export function createFile(h: Pick<HermesSettings, 'instance'>): string {
  return h.instance === undefined ? CREATE_FILE : `${CREATE_FILE}-${h.instance}`;
}

const LIB_IN_CONTAINER = '/opt/hermes-fleet';
const DATA_IN_CONTAINER = '/data';
const HOME_IN_CONTAINER = '/home/hermes';
const ROOT_EXEC: Attrs = { mode: 0o755, user: 'root', group: 'root' };
const ROOT_FILE: Attrs = { mode: 0o644, user: 'root', group: 'root' };

/**
 * `HERMES_HOME/.container-mode`: tells the hermes CLI on the host to exec into the container
 * instead of running locally (the module writes it in container mode and removes it otherwise).
 */
export function containerModePath(h: HermesSettings): string {
  return `${hermesPaths(h).hermesHome}/.container-mode`;
}

/** Its content, the module's keys; the package is mounted at its own path in the container. */
export function renderContainerMode(h: HermesSettings): string {
  return [
    '# Written by hermes-fleet. Do not edit manually.',
    `backend=${h.container.backend}`,
    `container_name=${containerName(h)}`,
    `exec_user=${h.user}`,
    `hermes_bin=${hermesPaths(h).bin}`,
    '',
  ].join('\n');
}

export function identityPath(h: HermesSettings): string {
  return `${hermesPaths(h).stateDir}/.container-identity`;
}

/** MESSAGING_CWD inside the container: stateDir is `/data`; a path elsewhere needs extraVolumes. */
export function containerWorkDir(h: HermesSettings): string {
  const p = hermesPaths(h);
  return isUnder(p.workingDirectory, p.stateDir) && p.workingDirectory !== p.stateDir
    ? `${DATA_IN_CONTAINER}/${p.workingDirectory.slice(p.stateDir.length + 1)}`
    : p.workingDirectory;
}

/**
 * Arguments of `<backend> create` that do not depend on the host's state, split where the
 * account's `--env HERMES_UID/HERMES_GID` (resolved on the host) go: before the image. Each
 * extraVolumes and extraOptions entry is one argument (the module splits them on spaces).
 */
export function containerCreateArgs(h: HermesSettings): { options: string[]; command: string[] } {
  const p = hermesPaths(h);
  const pkg = p.bin.slice(0, -'/bin/hermes'.length);
  const options = [
    'create',
    '--name',
    containerName(h),
    // The plan refused a missing image; a start must not wait on a registry either.
    '--pull=never',
    '--network=host',
    '--entrypoint',
    `${LIB_IN_CONTAINER}/container-entrypoint`,
    '--volume',
    `${pkg}:${pkg}:ro`,
    '--volume',
    `${FLEET_LIB_DIR}:${LIB_IN_CONTAINER}:ro`,
    '--volume',
    `${p.stateDir}:${DATA_IN_CONTAINER}`,
    '--volume',
    `${p.homeDir}:${HOME_IN_CONTAINER}`,
    ...(h.extraPlugins.length > 0 ? ['--volume', `${PLUGIN_STORE}:${PLUGIN_STORE}:ro`] : []),
    ...h.container.extraVolumes.flatMap((v) => ['--volume', v]),
    '--env',
    `HERMES_HOME=${DATA_IN_CONTAINER}/.hermes`,
    '--env',
    'HERMES_MANAGED=true',
    '--env',
    `HOME=${HOME_IN_CONTAINER}`,
    '--env',
    `MESSAGING_CWD=${containerWorkDir(h)}`,
    ...h.container.extraOptions,
  ];
  return {
    options,
    command: [imageRef(h), p.bin, 'gateway', 'run', '--replace', ...h.extraArgs],
  };
}

/**
 * What `create` is given: with an image archive, the image id in it, so the container runs
 * that very content whatever a tag on the host points at; else the inventory's image.
 */
function imageRef(h: HermesSettings): string {
  return h.container.imageArchive?.id ?? h.container.image;
}

/** The image, for people: the tag, and with an archive the id in it. */
function imageShown(h: HermesSettings): string {
  const archive = h.container.imageArchive;
  return archive ? `${h.container.image} (image ${shortImageId(archive.id)})` : h.container.image;
}

/** The identity hash of the container `create` would make (see container-identity.ts). */
export function containerIdentity(h: HermesSettings): string {
  return identityHash(identityInputs(h));
}

/** Run as root by the unit before each start: creates the container when it does not exist. */
export function renderCreateScript(h: HermesSettings): string {
  const bin = h.container.backend;
  const { options, command } = containerCreateArgs(h);
  return [
    '#!/bin/sh',
    '# Managed by hermes-fleet: creates the hermes-agent container when it does not exist.',
    '# The fleet removes it when its identity changes, so the next start recreates it.',
    'set -eu',
    `if ${bin} container inspect ${containerName(h)} >/dev/null 2>&1; then exit 0; fi`,
    `HERMES_UID=$(id -u ${shellQuote(h.user)})`,
    `HERMES_GID=$(id -g ${shellQuote(h.user)})`,
    `if ! ${bin} \\`,
    ...options.map((a) => `  ${shellQuote(a)} \\`),
    '  --env "HERMES_UID=$HERMES_UID" \\',
    '  --env "HERMES_GID=$HERMES_GID" \\',
    `  ${command.map(shellQuote).join(' ')} >/dev/null; then`,
    '  # A create that failed half-way must not leave a container the next start would run.',
    `  ${bin} rm -f ${containerName(h)} >/dev/null 2>&1 || true`,
    '  exit 1',
    'fi',
    '',
  ].join('\n');
}

/**
 * Runs as root in the container on every start: makes sure a group and a user with the host
 * account's gid and uid exist, hands HERMES_HOME and the home to them, and drops to that user
 * (refusing to run the gateway as root when neither setpriv nor su exists). The shell file
 * (container-entrypoint.sh, checked by shellcheck) gets the home's path, and loses its shellcheck
 * directives: the file written on the host is the same, byte for byte, as before the file
 * existed, so no host sees its entrypoint change.
 */
export const ENTRYPOINT_SCRIPT = ENTRYPOINT_SH.replace(/^ *# shellcheck .*\n/gm, '').replace(
  '@HOME_IN_CONTAINER@',
  HOME_IN_CONTAINER,
);

/** The unit that starts and stops the container, as the module's MODE B service. */
export function renderContainerUnit(h: HermesSettings): string {
  const bin = h.container.backend;
  if (!Number.isInteger(h.restartSec) || h.restartSec < 0) {
    throw new PlanError(`restartSec must be a whole number of seconds; got ${h.restartSec}`);
  }
  // Wants=, not the module's Requires=: podman's docker shim has no docker.service to require.
  const runtime = bin === 'docker' ? ' docker.service' : '';
  return [
    "# Managed by hermes-fleet (the container unit of hermes-agent's NixOS module); edits are overwritten.",
    '[Unit]',
    'Description=Hermes Agent Gateway (container)',
    `After=network-online.target${runtime}`,
    `Wants=network-online.target${runtime}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStartPre=${systemdQuote(createFile(h))}`,
    `ExecStart=${bin} start -a ${containerName(h)}`,
    `ExecStop=-${bin} stop -t 10 ${containerName(h)}`,
    `Restart=${h.restart}`,
    `RestartSec=${h.restartSec}`,
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function containerFacts(h: HermesSettings): FactRequest[] {
  const backend = h.container.backend;
  return [
    { kind: 'command', name: backend },
    { kind: 'container', backend, name: containerName(h) },
    // With an archive, the image it holds, by id: the host lacks it exactly when it must load it.
    { kind: 'image', backend, image: imageRef(h) },
    { kind: 'path', path: FLEET_LIB_DIR },
    { kind: 'path', path: ENTRYPOINT_FILE, content: true },
    { kind: 'path', path: createFile(h), content: true },
    readPath(h, { path: identityPath(h), content: true }),
    readPath(h, { path: containerModePath(h), content: true }),
  ];
}

/**
 * In native mode: what container mode may have left. No container is inspected: the identity
 * file is the mark that this fleet ran a container here (and which backend it used).
 */
export function containerLeftoverFacts(h: HermesSettings): FactRequest[] {
  return [
    { kind: 'path', path: ENTRYPOINT_FILE },
    { kind: 'path', path: createFile(h) },
    readPath(h, { path: identityPath(h), content: true }),
    readPath(h, { path: containerModePath(h) }),
  ];
}

function imageFact(facts: HostFacts, backend: string, image: string): boolean {
  const fact = facts.images.get(`${backend}:${image}`);
  if (fact === undefined) {
    throw new InternalError(`image ${backend}:${image} was not among the requested facts`);
  }
  return fact;
}

function missingImage(backend: string, image: string): PlanError {
  return new PlanError(
    `container image ${image} is not on the host (${backend} image inspect finds no such image), ` +
      `and hermes-fleet does not pull images: provide it on the host with \`${backend} pull ${image}\`, ` +
      `or copy an image archive there and \`${backend} load -i ARCHIVE.tar\`; then run again`,
  );
}

/** Removal of the container, and the stop it needs when the unit runs it. */
export interface ContainerTeardown {
  /** Why, for the stop and the start that follow. */
  why: string;
  changes: Change[];
  /** `always`: the running unit runs the container; `unit-changes`: only if the unit is rewritten. */
  stop: 'always' | 'unit-changes';
}

export interface ContainerPlan {
  /** The fleet's scripts (and their directory): written before the unit. */
  files: Change[];
  /** Set when the existing container must go; the unit must not be running when it does. */
  teardown?: ContainerTeardown;
  /** The new identity, written only after the old container is gone. */
  after: Change[];
  /** Set when the next start creates the container: said in the start's reason. */
  creates?: string;
  /** Why a running gateway must restart (a script it runs at start changed). */
  reasons: string[];
}

type Backend = HermesSettings['container']['backend'];

function recordedIdentity(facts: HostFacts, h: HermesSettings): RecordedIdentity | undefined {
  const fact = pathFact(facts, identityPath(h));
  if (fact.kind !== 'file') return undefined;
  return parseIdentity(fact.text ?? '');
}

function recordedBackend(recorded: RecordedIdentity | undefined): Backend | undefined {
  const backend = recorded?.inputs?.['container.backend'];
  return backend === 'docker' || backend === 'podman' ? backend : undefined;
}

export function planContainerParts(h: HermesSettings, facts: HostFacts): ContainerPlan {
  const backend = h.container.backend;
  if (!commandFact(facts, backend)) {
    throw new PlanError(
      `container.backend is ${backend}, but ${backend} is not installed on the host`,
    );
  }
  const files: Change[] = [];
  const reasons: string[] = [];
  const archive = h.container.imageArchive;
  // Loaded first: the upload happens while the old container still runs, and nothing later
  // in the run (the start that creates the container) waits on a missing image.
  const imageHere = imageFact(facts, backend, imageRef(h));
  if (archive && !imageHere) files.push({ kind: 'image-load', backend, archive });
  const lib = pathFact(facts, FLEET_LIB_DIR);
  if (lib.kind === 'absent' || (lib.kind === 'dir' && attrsDiffer(lib, ROOT_EXEC))) {
    files.push({ kind: 'dir', path: FLEET_LIB_DIR, attrs: ROOT_EXEC, before: lib });
  } else if (lib.kind !== 'dir') {
    throw new PlanError(`${FLEET_LIB_DIR} exists and is not a directory`);
  }
  for (const [path, text, what] of [
    [ENTRYPOINT_FILE, ENTRYPOINT_SCRIPT, 'container entrypoint'],
    [createFile(h), renderCreateScript(h), 'container create script'],
  ] as const) {
    const change = planFile({
      path,
      fact: pathFact(facts, path),
      body: { text },
      attrs: ROOT_EXEC,
      manage: 'content',
    });
    if (change) files.push(change);
    if (change?.kind === 'file') reasons.push(`${what} changed`);
  }
  // For the host CLI only: the gateway never reads it, so it restarts nothing.
  const modeFile = planFile({
    path: containerModePath(h),
    fact: pathFact(facts, containerModePath(h)),
    body: { text: renderContainerMode(h) },
    attrs: { mode: 0o644, user: h.user, group: h.group },
    manage: 'content',
  });
  if (modeFile) files.push(modeFile);

  const inputs = identityInputs(h);
  const recorded = recordedIdentity(facts, h);
  const container = containerFact(facts, backend, containerName(h));
  const plan: ContainerPlan = { files, reasons, after: [] };
  // A container made through the other runtime lives in its own store (unless podman-docker
  // shares it); it goes through that runtime, or it would run on beside the new one.
  const oldBackend = recordedBackend(recorded);
  const foreign = oldBackend !== undefined && oldBackend !== backend ? oldBackend : undefined;
  if ((container.exists || foreign) && recorded?.hash !== identityHash(inputs)) {
    const detail = describeIdentityChange(recorded, inputs);
    const remove = (b: Backend): Change => ({
      kind: 'container-remove',
      backend: b,
      name: containerName(h),
      reason: `recreated: ${detail}`,
    });
    plan.teardown = {
      why: `the container is recreated: ${detail}`,
      stop: 'always',
      changes: [
        ...(foreign ? [remove(foreign)] : []),
        ...(container.exists ? [remove(backend)] : []),
      ],
    };
  } else if (!container.exists) {
    plan.creates = `the start creates container ${containerName(h)} from ${imageShown(h)}`;
  }
  // Checked only when a create is coming: a running container needs no image to keep running.
  if ((plan.teardown || plan.creates) && !archive && !imageHere) {
    throw missingImage(backend, h.container.image);
  }
  const idChange = planFile({
    path: identityPath(h),
    fact: pathFact(facts, identityPath(h)),
    body: { text: renderIdentity(inputs) },
    attrs: ROOT_FILE,
    manage: 'content',
  });
  if (idChange) plan.after.push(idChange);
  return plan;
}

/**
 * Native mode on a host where container mode ran: the container goes (with the unit stopped if
 * it still runs it), and so do the identity and the scripts. `rm -f` of a container that is
 * already gone is a no-op, so the identity file alone is enough to decide. `sharedInUse`: another
 * instance of the host runs in a container, so the shared entrypoint stays.
 */
export function planContainerLeftovers(
  h: HermesSettings,
  facts: HostFacts,
  sharedInUse = false,
): ContainerPlan {
  const plan: ContainerPlan = { files: [], reasons: [], after: [] };
  const idPath = identityPath(h);
  const idFact = pathFact(facts, idPath);
  if (idFact.kind === 'file') {
    const backend = recordedBackend(recordedIdentity(facts, h)) ?? h.container.backend;
    const why = 'switching from container to native mode';
    plan.teardown = {
      why,
      stop: 'unit-changes',
      changes: [
        { kind: 'container-remove', backend, name: containerName(h), reason: why },
        { kind: 'remove', path: idPath, before: idFact },
      ],
    };
  }
  const leftovers = [
    ...(sharedInUse ? [] : [ENTRYPOINT_FILE]),
    createFile(h),
    containerModePath(h),
  ];
  for (const path of leftovers) {
    const fact = pathFact(facts, path);
    if (fact.kind === 'file') plan.after.push({ kind: 'remove', path, before: fact });
  }
  return plan;
}
