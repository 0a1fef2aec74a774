import type { Attrs } from '../facts/types.js';
import { attrFields, never, noDiff, noFields, type ChangeRecords } from './record.js';

/*
 * The unit (src/apply/ops/service.sh): systemctl actions, the health check after a (re)start
 * (whose failure rolls the batch back), and the note that a restart is owed.
 */

export type ServiceChange =
  | {
      kind: 'systemd';
      action: 'daemon-reload' | 'enable' | 'disable' | 'start' | 'stop' | 'restart';
      unit: string;
      /** Why, for humans: `unit file changed`, `config.yaml changed`, … */
      reason?: string;
    }
  /**
   * After a (re)start: the unit must become active and stay active `seconds`; when `command`
   * is set it must also exit 0, run on the host as `user`. `rollback`: the host had a gateway
   * before this run, so a failure puts back what the run changed (see `undo` in ./record.ts); a
   * first deploy has nothing to go back to and is left as the run made it.
   */
  | {
      kind: 'wait-healthy';
      unit: string;
      seconds: number;
      command?: string;
      user: string;
      rollback?: boolean;
      /** The generation the host was on before this run, when it has one: what a rollback restores. */
      generation?: number;
    }
  /**
   * A note in root's /run that `unit` owes a restart: `set` before the first write the unit
   * reads, `clear` once a restart passed its health check. A run that stops half-way leaves it,
   * so the next run restarts the unit.
   */
  | { kind: 'restart-pending'; action: 'set' | 'clear'; path: string; unit: string };

/** The pending-restart note is root's alone. */
const NOTE_ATTRS: Attrs = { mode: 0o600, user: 'root', group: 'root' };

export const SERVICE_CHANGES: ChangeRecords<ServiceChange> = {
  systemd: {
    doc: 'a systemctl action',
    example: { kind: 'systemd', action: 'restart', unit: 'u.service' },
    undo: 'none',
    restarts: (change) => change.action === 'restart' || change.action === 'start',
    encode: (change) => ({ fields: { action: change.action, unit: change.unit } }),
    describe: (change) => {
      const reason = change.reason ? ` (${change.reason})` : '';
      return change.action === 'daemon-reload'
        ? `systemctl daemon-reload${reason}`
        : `${change.action} ${change.unit}${reason}`;
    },
    json: (change) => ({ unit: change.unit, action: change.action }),
    diff: noDiff,
    drift: true,
  },
  'wait-healthy': {
    doc: 'the health wait after a (re)start: its failure rolls the run back',
    example: { kind: 'wait-healthy', unit: 'u.service', seconds: 5, user: 'hermes' },
    undo: 'none',
    restarts: () => true,
    encode: (change) => {
      const body = Buffer.from(change.command ?? '', 'utf8');
      return {
        fields: {
          unit: change.unit,
          seconds: String(change.seconds),
          user: change.user,
          size: String(body.length),
        },
        ...(body.length > 0 ? { body } : {}),
      };
    },
    describe: (change) => {
      // The command itself is left to -vv detail: it is inventory text and can be long.
      const check = change.command === undefined ? '' : `, then health check as ${change.user}`;
      return `wait until ${change.unit} is healthy (${change.seconds}s${check})`;
    },
    json: (change) => ({ unit: change.unit }),
    diff: noDiff,
    drift: true,
  },
  'restart-pending': {
    doc: 'a restart owed to the gateway is noted or cleared',
    example: { kind: 'restart-pending', action: 'set', path: '/run/p', unit: 'u.service' },
    undo: 'path',
    restarts: never,
    encode: (change) => {
      const fields = { action: change.action, path: change.path, unit: change.unit };
      if (change.action === 'clear') return { fields };
      const body = Buffer.from(`${change.unit} must restart (hermes-fleet)\n`, 'utf8');
      return {
        fields: { ...fields, ...attrFields(NOTE_ATTRS), size: String(body.length) },
        body,
      };
    },
    describe: (change) =>
      change.action === 'set'
        ? `note that ${change.unit} must restart (${change.path}, until a restart succeeds)`
        : `clear the pending-restart note ${change.path}`,
    json: noFields,
    diff: noDiff,
    // The pending-restart note is bookkeeping of the run, not drift of the host.
    drift: false,
  },
};
