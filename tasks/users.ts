import { describePathKind, type FactRequest, type HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { groupFact, pathFact, userFact } from './lib/facts-access.js';
import { hermesPaths } from './lib/layout.js';
import type { Task } from '../src/plan/task.js';

/** The module's `shell = pkgs.bashInteractive`, on a host that is not NixOS. */
export const USER_SHELL = '/bin/bash';

/**
 * The service account, as the module's `users.users.<user>` with `isSystemUser`. Only creation
 * is managed: an account that already exists (with another home, shell or primary group) is
 * left exactly as it is and reported as in sync, because changing a live account's home or
 * group under running processes is riskier than the drift, and a person may have set it up so
 * on purpose. The directories and files are still owned by user:group, by name.
 */
export const usersTask: Task = {
  name: 'users',

  facts(host: HostSpec): FactRequest[] {
    return [
      { kind: 'group', name: host.hermes.group },
      { kind: 'user', name: host.hermes.user },
      ...host.hermes.container.hostUsers.flatMap((name): FactRequest[] => {
        const home = personHome(name);
        return [
          { kind: 'user', name },
          // Read as the person: the home is the person's tree, as stateDir is the account's.
          { kind: 'path', path: home, as: name },
          { kind: 'path', path: `${home}/.hermes`, as: name },
          { kind: 'path', path: `${home}/${KEPT_ASIDE}`, as: name },
        ];
      }),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const groupMissing = groupFact(facts, h.group) === null;
    const userMissing = userFact(facts, h.user) === null;
    if (!h.createUser) {
      const missing = [
        ...(groupMissing ? [`group ${h.group}`] : []),
        ...(userMissing ? [`user ${h.user}`] : []),
      ];
      if (missing.length > 0) {
        throw new PlanError(
          `${missing.join(' and ')} ${missing.length > 1 ? 'do' : 'does'} not exist on the host and createUser is false: create ${missing.length > 1 ? 'them' : 'it'} first, or set createUser: true`,
        );
      }
      return [];
    }
    const changes: Change[] = [];
    if (groupMissing) changes.push({ kind: 'group-create', name: h.group });
    if (userMissing) {
      changes.push({
        kind: 'user-create',
        name: h.user,
        group: h.group,
        home: hermesPaths(h).stateDir,
        shell: USER_SHELL,
      });
    }
    return [...changes, ...h.container.hostUsers.flatMap((name) => planHostUser(h, facts, name))];
  },
};

/** The module's `users.users.<name>.home` for a person on a plain host. */
export function personHome(name: string): string {
  return `/home/${name}`;
}

/** Where a real ~/.hermes of the person's own is kept, beside it, before the link takes its name. */
export const KEPT_ASIDE = '.hermes.before-hermes-fleet';

/**
 * A person of `container.hostUsers`, as the module's: in the account's group (so the shared
 * modes let them read and write the state), with `~/.hermes` a link to HERMES_HOME, made by the
 * person in the person's own home. A real `~/.hermes` there is set aside, never deleted.
 */
function planHostUser(h: HermesSettings, facts: HostFacts, name: string): Change[] {
  const person = userFact(facts, name);
  const home = personHome(name);
  if (person === null) {
    throw new PlanError(
      `container.hostUsers: user ${name} does not exist on the host; create it first`,
    );
  }
  if (person.home !== home) {
    throw new PlanError(
      `container.hostUsers: ${name}'s home is ${person.home}, and hermes-fleet links ~/.hermes only in ${home}`,
    );
  }
  const homeFact = pathFact(facts, home);
  if (homeFact.kind !== 'dir') {
    throw new PlanError(
      `container.hostUsers: ${name}'s home ${home} is not a directory on the host`,
    );
  }
  const changes: Change[] = [];
  const group = groupFact(facts, h.group);
  if (!(group?.members ?? []).includes(name) && person.gid !== group?.gid) {
    changes.push({ kind: 'group-member', name, group: h.group });
  }
  const link = `${home}/.hermes`;
  const target = hermesPaths(h).hermesHome;
  let before = pathFact(facts, link);
  if (before.kind === 'symlink' && before.target === target) return changes;
  if (before.kind === 'dir') {
    const kept = `${home}/${KEPT_ASIDE}`;
    if (pathFact(facts, kept).kind !== 'absent') {
      throw new PlanError(
        `${link} is a directory of ${name}'s own, and ${kept}, where it would be kept, exists too: move one of them away and run again`,
      );
    }
    changes.push({ kind: 'set-aside', path: link, target: kept, before, as: name });
    before = { kind: 'absent' };
  } else if (before.kind !== 'absent' && before.kind !== 'symlink') {
    throw new PlanError(`${link} is ${describePathKind(before)}: move it away and run again`);
  }
  changes.push({ kind: 'symlink', path: link, target, before, as: name });
  return changes;
}
