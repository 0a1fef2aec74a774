import { never, noDiff, noFields, type ChangeRecords } from './record.js';

/*
 * The accounts the gateway runs as (src/apply/ops/accounts.sh): created when missing, never removed;
 * people added to its group; and the Debian packages it uses (extraPackages).
 */

export type AccountChange =
  | { kind: 'group-create'; name: string }
  | { kind: 'user-create'; name: string; group: string; home: string; shell: string }
  /** A person added to the account's group (container.hostUsers): `usermod -a -G`. */
  | { kind: 'group-member'; name: string; group: string }
  /** Debian packages installed with apt-get (extraPackages): the ones the host lacks. */
  | { kind: 'package-install'; names: string[] };

export const ACCOUNT_CHANGES: ChangeRecords<AccountChange> = {
  'group-create': {
    doc: 'a system group created',
    example: { kind: 'group-create', name: 'hermes' },
    undo: 'none',
    restarts: never,
    encode: (change) => ({ fields: { name: change.name } }),
    describe: (change) => `create group ${change.name}`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'user-create': {
    doc: 'a system account created',
    example: { kind: 'user-create', name: 'hermes', group: 'hermes', home: '/h', shell: '/s' },
    undo: 'none',
    restarts: never,
    encode: (change) => ({
      fields: { name: change.name, group: change.group, home: change.home, shell: change.shell },
    }),
    describe: (change) => {
      const group = change.group === change.name ? '' : `group ${change.group}, `;
      return `create user ${change.name} (${group}home ${change.home}, shell ${change.shell})`;
    },
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'group-member': {
    doc: "a person added to the account's group",
    example: { kind: 'group-member', name: 'ana', group: 'hermes' },
    // A membership added is harmless; taking one away could cut a person off mid-session.
    undo: 'none',
    restarts: never,
    encode: (change) => ({ fields: { name: change.name, group: change.group } }),
    describe: (change) => `add ${change.name} to group ${change.group}`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'package-install': {
    doc: 'Debian packages installed with apt-get',
    example: { kind: 'package-install', names: ['jq', 'ripgrep'] },
    // A package installed is harmless, and removing one could take what others need with it.
    undo: 'none',
    restarts: never,
    encode: (change) => {
      const body = Buffer.from(`${change.names.join('\n')}\n`, 'utf8');
      return { fields: { size: String(body.length) }, body };
    },
    describe: (change) => `install packages ${change.names.join(', ')} (apt-get)`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
};
