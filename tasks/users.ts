import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { groupFact, userFact } from './lib/facts-access.js';
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
    return changes;
  },
};
