import type { HostResult, RunResult } from '../runner/types.js';
import { indentContinuation, oneLine, palette } from '../text.js';

/** One host's line of the recap, as Ansible counts it. */
export interface RecapStats {
  /** Tasks that ran: ok plus changed. */
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

export function recapStats(host: HostResult): RecapStats {
  const count = (status: string): number => host.tasks.filter((t) => t.status === status).length;
  const failedTasks = count('failed');
  return {
    ok: count('ok') + count('changed'),
    changed: count('changed'),
    unreachable: host.status === 'unreachable' ? 1 : 0,
    failed: host.status === 'failed' ? Math.max(1, failedTasks) : failedTasks,
    skipped: count('skipped'),
  };
}

/** Ansible's banner width: Display.columns = max(79, terminal width - 1), 79 off a terminal. */
export function ansibleColumns(terminalColumns?: number): number {
  return Math.max(79, (terminalColumns ?? 0) - 1);
}

/** Under a check's recap: its `changed` counts are what a run would change. */
export const CHECK_MODE_NOTE =
  'CHECK MODE: nothing was changed on any host; "changed" counts what a run would change.';

/**
 * Ansible's PLAY RECAP (default callback, v2_playbook_on_stats), byte for byte in its columns:
 * a blank line, `PLAY RECAP ` with stars to `columns`, then per host (sorted, as Ansible does)
 * `%-26s : ok=%-4s changed=%-4s unreachable=%-4s failed=%-4s skipped=%-4s`. Ansible goes on with
 * `rescued=` and `ignored=`; hermes-fleet has neither, so the line stops after `skipped` and its
 * trailing padding is dropped. Colours as Ansible's: a count is coloured only when not zero.
 * Under the recap, one line per failed or unreachable host with its task and message (a
 * multi-line message continues indented), and after a check a note that nothing was applied.
 * On a terminal pass `ansibleColumns(stdout.columns)`.
 */
export function formatRecap(result: RunResult, color: boolean, columns = ansibleColumns()): string {
  const c = palette(color);
  const title = 'PLAY RECAP';
  const out = ['', `${title} ${'*'.repeat(Math.max(3, columns - title.length))}`];
  const hosts = [...result.hosts].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  for (const host of hosts) {
    const t = recapStats(host);
    const stat = (lead: string, n: number, paint: (s: string) => string, last = false): string => {
      const text = `${lead}=${String(n).padEnd(4)}`;
      const shown = last ? text.trimEnd() : text;
      return n !== 0 ? paint(shown) : shown;
    };
    const name = oneLine(host.host);
    const hostPaint = t.failed || t.unreachable ? c.red : t.changed ? c.yellow : c.green;
    out.push(
      [
        `${hostPaint(name)}${' '.repeat(Math.max(0, 26 - name.length))}`,
        ':',
        stat('ok', t.ok, c.green),
        stat('changed', t.changed, c.yellow),
        stat('unreachable', t.unreachable, c.redBright),
        stat('failed', t.failed, c.red),
        stat('skipped', t.skipped, c.cyan, true),
      ].join(' '),
    );
  }
  const problems = hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
  if (problems.length > 0) out.push('');
  for (const host of problems) out.push(c.red(problemLine(host)));
  const cutOff = hosts.filter((h) => h.cutOff !== undefined);
  if (cutOff.length > 0) out.push('');
  for (const host of cutOff) out.push(c.yellow(`${oneLine(host.host)}: ${host.cutOff ?? ''}`));
  const tookOver = hosts.filter((h) => h.lockTakenOver !== undefined);
  if (tookOver.length > 0) out.push('');
  for (const host of tookOver) {
    out.push(c.yellow(`${oneLine(host.host)}: ${host.lockTakenOver ?? ''}`));
  }
  if (result.mode === 'check') {
    // Ansible also says `changed` in check mode; the recap says once that nothing was applied.
    out.push('', c.cyan(CHECK_MODE_NOTE));
  }
  if (result.interrupted) {
    out.push(
      '',
      c.yellow('Interrupted: hosts finished the task they were in and started no other.'),
    );
  }
  return `${out.join('\n')}\n`;
}

/** `web01: failed in service: <message>` / `web02: unreachable: <reason>` */
export function problemLine(host: HostResult): string {
  const name = oneLine(host.host);
  const failedTask = host.tasks.find((t) => t.status === 'failed');
  const message = host.message ?? failedTask?.message ?? 'no reason given';
  const task = host.failedTask ?? failedTask?.task;
  const where =
    host.status === 'unreachable' ? 'unreachable' : task ? `failed in ${task}` : 'failed';
  return `${name}: ${where}: ${indentContinuation(message, '    ')}`;
}
