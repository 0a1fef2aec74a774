import * as path from 'node:path';
import type { SourceLocation } from '../errors.js';
import { UserError } from '../errors.js';
import type { HermesSettings } from './types.js';

/** A named instance's state directory unless it sets one: `/var/lib/hermes-<name>`. */
export function instanceStateDir(name: string): string {
  return `/var/lib/hermes-${name}`;
}

/**
 * The checks between the instances of one host, at load time: what two gateways on one host
 * cannot share. Their trees (stateDir, workingDirectory: the account owning one could rename
 * anything in it, the other's files included), a listening port (the second gateway would fail
 * to bind, hermes-agent's "every gateway uses the default port"), the one `current` link of a
 * release root, and /usr/local/bin/hermes. The unit and the container are named after the
 * instance, so they differ by construction.
 */
export function checkInstancesApart(
  instances: readonly HermesSettings[],
  where: (name: string) => SourceLocation | undefined,
): void {
  for (const [i, a] of instances.entries()) {
    for (const b of instances.slice(i + 1)) checkPair(a, b, where(b.instance ?? ''));
  }
}

function checkPair(a: HermesSettings, b: HermesSettings, at: SourceLocation | undefined): void {
  const names = `instances ${a.instance ?? ''} and ${b.instance ?? ''}`;
  for (const treeA of trees(a)) {
    for (const treeB of trees(b)) {
      if (!overlap(treeA, treeB)) continue;
      throw new UserError(
        treeA === treeB
          ? `${names} both use ${treeA}: each instance needs a stateDir (and workingDirectory) of its own`
          : `${names} overlap: ${treeA} and ${treeB} (one lies in the other)`,
        at,
        `leave stateDir unset (each instance then gets /var/lib/hermes-<name>), or give each its own`,
      );
    }
  }
  const portsA = listeningPorts(a.settings);
  for (const [port, keyB] of listeningPorts(b.settings)) {
    const keyA = portsA.get(port);
    if (keyA === undefined) continue;
    throw new UserError(
      `${names} both listen on port ${port} (settings.${keyA} and settings.${keyB}): the second gateway could not bind it`,
      at,
      'give each instance a port of its own',
    );
  }
  if (a.release && b.release) {
    if (a.release.root === b.release.root && a.release.archive.id !== b.release.archive.id) {
      throw new UserError(
        `${names} pin different releases in one release root ${a.release.root}: a root has one current link`,
        at,
        'give one of them a release.root of its own (instances that share a root share its release)',
      );
    }
  }
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    const root = x.release?.root;
    const tree = root === undefined ? undefined : trees(y).find((t) => overlap(root, t));
    if (root !== undefined && tree !== undefined) {
      throw new UserError(
        `release.root ${root} of instance ${x.instance ?? ''} and ${tree} of instance ${y.instance ?? ''} overlap: releases are root's alone`,
        at,
        'keep the release root apart from every instance stateDir and workingDirectory',
      );
    }
  }
  const sharedWith = a.container.hostUsers.find((user) => b.container.hostUsers.includes(user));
  if (sharedWith !== undefined) {
    throw new UserError(
      `${names} both list ${sharedWith} in container.hostUsers: a person has one ~/.hermes, linked to one HERMES_HOME`,
      at,
      'list each person under one instance only',
    );
  }
  if (a.addToSystemPackages && b.addToSystemPackages) {
    throw new UserError(
      `${names} both set addToSystemPackages: /usr/local/bin/hermes is one link, and login shells get one HERMES_HOME`,
      at,
      'set addToSystemPackages on one of them only',
    );
  }
}

function trees(h: HermesSettings): string[] {
  return [...new Set([h.stateDir, h.workingDirectory].map((p) => path.posix.normalize(p)))];
}

function overlap(a: string, b: string): boolean {
  return isUnder(a, b) || isUnder(b, a);
}

function isUnder(child: string, parent: string): boolean {
  const relative = path.posix.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.posix.isAbsolute(relative));
}

/**
 * The ports the settings make the gateway listen on: every whole number under a key named
 * `port` or ending in `_port`, at any depth (`platforms.api_server.port`, `webhook_port`),
 * port → the key path that sets it.
 */
export function listeningPorts(settings: Record<string, unknown>): Map<number, string> {
  const out = new Map<number, string>();
  const walk = (value: unknown, keyPath: string[]): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const at = [...keyPath, key];
      if ((key === 'port' || key.endsWith('_port')) && isPort(child)) {
        if (!out.has(Number(child))) out.set(Number(child), at.join('.'));
      } else {
        walk(child, at);
      }
    }
  };
  walk(settings, []);
  return out;
}

function isPort(value: unknown): boolean {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536;
}
