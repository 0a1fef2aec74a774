import { never, noDiff, noFields, type ChangeRecords } from './record.js';

/* The accounts the gateway runs as (src/apply/ops/accounts.sh): created when missing, never removed. */

export type AccountChange =
  | { kind: 'group-create'; name: string }
  | { kind: 'user-create'; name: string; group: string; home: string; shell: string };

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
};
