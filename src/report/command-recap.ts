import type { CommandResult, CommandRunResult } from '../runner/run-command.js';
import { ansibleColumns } from './recap.js';
import { oneLine, palette, seconds } from '../text.js';

/**
 * How a host's command ended, in one line: `exit=0    ok`, `exit=3    failed`, `failed: killed by
 * SIGINT`, `unreachable: <reason>`, `skipped: interrupted`.
 */
export function commandOutcome(host: CommandResult): string {
  const exit = host.exitCode === null ? '' : `exit=${String(host.exitCode).padEnd(4)} `;
  const why = host.message === undefined ? '' : `: ${oneLine(host.message)}`;
  switch (host.status) {
    case 'ok':
      return `exit=0    ok`;
    case 'failed':
      return `${exit}failed${why}`;
    case 'unreachable':
    case 'skipped':
      return `${host.status}${why}`;
  }
}

/**
 * The recap after `exec`, in the PLAY RECAP's columns: a banner, then per host (sorted) how its
 * command ended and how long it took. A note follows when Ctrl-C interrupted the commands.
 */
export function formatCommandRecap(
  result: CommandRunResult,
  color: boolean,
  title = 'EXEC RECAP',
  columns = ansibleColumns(),
): string {
  const c = palette(color);
  const out = ['', `${title} ${'*'.repeat(Math.max(3, columns - title.length))}`];
  const hosts = [...result.hosts].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  for (const host of hosts) {
    const name = oneLine(host.host);
    const paint = host.status === 'ok' ? c.green : host.status === 'skipped' ? c.cyan : c.red;
    const time =
      host.status === 'ok' || host.status === 'failed' ? ` (${seconds(host.durationMs)})` : '';
    out.push(
      `${paint(name)}${' '.repeat(Math.max(0, 26 - name.length))} : ${paint(commandOutcome(host))}${time}`,
    );
  }
  if (result.interrupted) {
    out.push(
      '',
      c.yellow('Interrupted: the commands in flight were sent Ctrl-C; no other host was started.'),
    );
  }
  return `${out.join('\n')}\n`;
}

/** The last line a command wrote to stderr (its reason, mostly), on one line; '' when none. */
export function lastStderrLine(host: CommandResult): string {
  const lines = host.stderr
    .toString('utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return oneLine(lines.at(-1) ?? '');
}

/**
 * Why a host's `logs` ended badly, for stderr: `[web1] failed: exit 1: No journal files were
 * opened due to insufficient permissions.`. With `-f` a host that ends at all has dropped out:
 * `[web1] dropped out: the log ended (exit 0)`, `[web1] dropped out: …: connection lost: …`.
 */
export function logsProblemLine(host: CommandResult, follow: boolean): string | undefined {
  if (host.status === 'ok' && !follow) return undefined;
  const said = lastStderrLine(host);
  const exit = host.exitCode === null ? undefined : `exit ${host.exitCode}`;
  const reason = [
    follow && exit !== undefined ? `the log ended (${exit})` : exit,
    host.message === undefined ? undefined : oneLine(host.message),
    said === '' ? undefined : said,
  ].filter((part): part is string => part !== undefined);
  // A host never reached was never followed: it did not drop out.
  const what = follow && host.status !== 'unreachable' ? 'dropped out' : host.status;
  return `[${oneLine(host.host)}] ${what}${reason.length > 0 ? `: ${reason.join(': ')}` : ''}`;
}
