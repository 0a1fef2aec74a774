import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import type { Task } from '../src/plan/task.js';

/**
 * `extraPackages`: on Debian these are apt packages (the module's are Nix packages on the
 * service's path). The ones the host lacks are installed in the apply, before the service task
 * (re)starts the gateway; they land in /usr/bin, which is on the unit's PATH. Installed packages
 * are never removed: others on the host may need them. Check mode says what would be installed.
 */
export const packagesTask: Task = {
  name: 'packages',

  facts(host: HostSpec): FactRequest[] {
    const names = host.hermes.extraPackages;
    if (names.length === 0) return [];
    return [
      { kind: 'command', name: 'apt-get' },
      ...names.map((name): FactRequest => ({ kind: 'package', name })),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const names = host.hermes.extraPackages;
    if (names.length === 0) return [];
    const missing = names.filter((name) => facts.packages?.get(name) !== true);
    if (missing.length === 0) return [];
    if (facts.commands.get('apt-get') !== true) {
      throw new PlanError(
        `extraPackages are Debian packages, installed with apt-get, and this host has no apt-get (missing: ${missing.join(', ')}): install them another way, or drop extraPackages for this host`,
      );
    }
    return [{ kind: 'package-install', names: missing }];
  },
};
