import type { HermesSettings } from '../../src/inventory/types.js';
import { PlanError } from '../../src/plan/types.js';
import { hermesPaths, isUnder, sharesState } from './layout.js';
import { escapeSpecifiers, systemdEnvironment, systemdQuote } from './systemd-quote.js';

/** The module's `path` (package, bash, coreutils, git): on a plain host those are the system dirs. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Paths go into settings that take them raw (WorkingDirectory=), quoted (ReadWritePaths=) or as
 * the executable (which systemd refuses with quotes, backslashes or control characters); a
 * path with none of those reads the same in all three.
 */
function checkPath(setting: string, path: string): void {
  if (!path.startsWith('/')) throw new PlanError(`${setting} must be an absolute path: ${path}`);
  if (/["'\\$\p{Cc}]/u.test(path)) {
    throw new PlanError(
      `${setting} ${JSON.stringify(path)} holds a quote, backslash, $ or control character, which a systemd unit cannot carry safely`,
    );
  }
}

function checkAccount(setting: string, name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new PlanError(`${setting} ${JSON.stringify(name)} is not a valid user or group name`);
  }
}

/** A word for settings that split on spaces and honour quotes but do not substitute `$`. */
function pathWord(path: string): string {
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(path) ? path : `"${escapeSpecifiers(path)}"`;
}

/**
 * The environment the native gateway runs with (the unit's Environment= lines), also what
 * `exec --as service` gives a command, so `hermes doctor` there sees what the gateway sees: its
 * HERMES_HOME, managed mode, and the package's bin first on PATH.
 */
export function serviceEnvironment(h: HermesSettings): [string, string][] {
  const p = hermesPaths(h);
  const binDir = p.bin.slice(0, -'/hermes'.length);
  return [
    ['HOME', p.stateDir],
    ['HERMES_HOME', p.hermesHome],
    ['HERMES_MANAGED', 'true'],
    ['MESSAGING_CWD', p.workingDirectory],
    ['PATH', `${binDir}:${SYSTEM_PATH}`],
  ];
}

/**
 * The native unit `hermes-agent.service`, as the NixOS module's `systemd.services.hermes-agent`
 * renders it (description, ordering, environment, hardening), with the module's `path` turned
 * into PATH over the standard system directories.
 */
export function renderNativeUnit(h: HermesSettings): string {
  const p = hermesPaths(h);
  checkPath('package', p.bin);
  checkPath('stateDir', p.stateDir);
  checkPath('workingDirectory', p.workingDirectory);
  checkAccount('user', h.user);
  checkAccount('group', h.group);
  if (!Number.isInteger(h.restartSec) || h.restartSec < 0) {
    throw new PlanError(`restartSec must be a whole number of seconds; got ${h.restartSec}`);
  }
  const execStart = [p.bin, 'gateway', ...h.extraArgs].map(systemdQuote).join(' ');
  return [
    "# Managed by hermes-fleet (the unit of hermes-agent's NixOS module); edits are overwritten.",
    '[Unit]',
    'Description=Hermes Agent Gateway',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    `User=${h.user}`,
    `Group=${h.group}`,
    `WorkingDirectory=${escapeSpecifiers(p.workingDirectory)}`,
    ...serviceEnvironment(h).map(([key, value]) => systemdEnvironment(key, value)),
    `ExecStart=${execStart}`,
    `Restart=${h.restart}`,
    `RestartSec=${h.restartSec}`,
    // Shared state: what the gateway creates is group-writable for the people in its group.
    ...(sharesState(h) ? ['UMask=0007'] : []),
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'ProtectHome=false',
    // The module lists workingDirectory too (ProtectSystem=strict leaves every other path
    // read-only); named only when it lies outside stateDir, so a default host's unit is as it was.
    `ReadWritePaths=${[p.stateDir, ...(isUnder(p.workingDirectory, p.stateDir) ? [] : [p.workingDirectory])].map(pathWord).join(' ')}`,
    'PrivateTmp=true',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
