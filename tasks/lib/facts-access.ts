import { InternalError } from '../../src/errors.js';
import type {
  ContainerFact,
  GroupFact,
  HostFacts,
  PathFact,
  UnitFact,
  UserFact,
} from '../../src/facts/types.js';
import type { Secret } from '../../src/secret.js';

/**
 * Lookups into HostFacts that fail loudly: a task that reads a fact it did not request is a bug
 * in hermes-fleet (its facts() and plan() disagree), never a property of the host.
 */

export type FileFact = Extract<PathFact, { kind: 'file' }>;

export function pathFact(facts: HostFacts, path: string): PathFact {
  const fact = facts.paths.get(path);
  if (!fact) throw new InternalError(`path ${path} was not among the requested facts`);
  return fact;
}

export function userFact(facts: HostFacts, name: string): UserFact | null {
  const fact = facts.users.get(name);
  if (fact === undefined) throw new InternalError(`user ${name} was not among the requested facts`);
  return fact;
}

export function groupFact(facts: HostFacts, name: string): GroupFact | null {
  const fact = facts.groups.get(name);
  if (fact === undefined) {
    throw new InternalError(`group ${name} was not among the requested facts`);
  }
  return fact;
}

export function unitFact(facts: HostFacts, name: string): UnitFact {
  const fact = facts.units.get(name);
  if (!fact) throw new InternalError(`unit ${name} was not among the requested facts`);
  return fact;
}

export function commandFact(facts: HostFacts, name: string): boolean {
  const fact = facts.commands.get(name);
  if (fact === undefined) {
    throw new InternalError(`command ${name} was not among the requested facts`);
  }
  return fact;
}

export function containerFact(
  facts: HostFacts,
  backend: 'docker' | 'podman',
  name: string,
): ContainerFact {
  const fact = facts.containers.get(`${backend}:${name}`);
  if (!fact)
    throw new InternalError(`container ${backend}:${name} was not among the requested facts`);
  return fact;
}

/** The text of a file whose content was requested as plain text. */
export function fileText(fact: FileFact, path: string): string {
  if (fact.text === undefined) {
    throw new InternalError(`the content of ${path} was not requested as text`);
  }
  return fact.text;
}

/** The content of a file whose content was requested as a secret. */
export function fileSecret(fact: FileFact, path: string): Secret {
  if (fact.secret === undefined) {
    throw new InternalError(`the content of ${path} was not requested as a secret`);
  }
  return fact.secret;
}
