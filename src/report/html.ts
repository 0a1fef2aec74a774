import { escape } from 'html-escaper';
import { PAGE_CSS, PAGE_JS } from './html-assets.js';
import type { PageHost, PageRun } from './html-model.js';
import type { ReportChange, ReportTask } from './json-schema.js';
import { failedTaskLabel, taskLabel } from './task-label.js';

/**
 * The run as one self-contained web page (`--html FILE`, `hermes-fleet report`): the summary,
 * the timeline of every host drawn to scale, and per host its changes, diffs and failure. Plain
 * HTML that reads without JavaScript and prints; the embedded script (html-assets.ts) adds the
 * filters, the search, sorting and grouping. Every value from a run goes through `escape` (the
 * html-escaper package) before it is written: in text and in quoted attributes alike.
 */

/**
 * Tagged template: interpolated strings are escaped, `Raw` (already HTML) passes as it is. Not
 * named `html`, which Prettier would take for embedded HTML and reflow (a newline in a `<pre>`
 * included).
 */
class Raw {
  constructor(readonly html: string) {}
}
type Part = string | number | Raw | readonly Raw[] | undefined | null | false;

function markup(strings: TemplateStringsArray, ...parts: Part[]): Raw {
  let out = strings[0] ?? '';
  parts.forEach((part, i) => {
    out += partHtml(part) + (strings[i + 1] ?? '');
  });
  return new Raw(out);
}

function partHtml(part: Part): string {
  if (part === undefined || part === null || part === false) return '';
  if (part instanceof Raw) return part.html;
  if (Array.isArray(part)) return (part as readonly Raw[]).map((p) => p.html).join('');
  return escape(typeof part === 'number' ? String(part) : (part as string));
}

/** The README's exit codes, for the summary. */
export const EXIT_MEANINGS: Record<number, string> = {
  0: 'every selected host succeeded',
  1: 'bad invocation or inventory: no host was contacted',
  2: 'at least one host failed (or was not started because a rolling deploy stopped)',
  3: 'no failure, and at least one host changed (--detailed-exitcode)',
  4: 'at least one host was unreachable, none failed',
  130: 'interrupted (Ctrl-C)',
};

const STATUSES = ['failed', 'unreachable', 'changed', 'ok', 'skipped'] as const;
const PHASES = ['connect', 'read', 'apply', 'restart', 'health', 'rollback'] as const;
const PHASE_LABEL: Record<string, string> = {
  connect: 'connect',
  read: 'read facts',
  apply: 'apply',
  restart: 'restart',
  health: 'health wait',
  rollback: 'rollback',
};

/** Milliseconds for people: `340 ms`, `4.2 s`, `2 min 05 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

function percent(value: number, total: number): string {
  return `${((value / total) * 100).toFixed(2)}%`;
}

/** A step for the axis: 1, 2 or 5 times a power of ten, at most ~8 ticks. */
function tickStep(totalMs: number): number {
  const raw = totalMs / 8;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function runTotalMs(run: PageRun): number {
  const ends = run.hosts.flatMap((h) => (h.timeline ?? []).map((p) => p.endMs));
  return Math.max(1, run.durationMs, ...ends);
}

function hostCounts(run: PageRun): Record<(typeof STATUSES)[number], number> {
  const counts = { failed: 0, unreachable: 0, changed: 0, ok: 0, skipped: 0 };
  for (const h of run.hosts) counts[h.status]++;
  return counts;
}

/** Task counts as the recap adds them up: ok counts tasks that ran (ok plus changed). */
function taskCounts(run: PageRun) {
  const tasks = run.hosts.flatMap((h) => h.tasks);
  const changed = tasks.filter((t) => t.status === 'changed').length;
  return {
    ok: tasks.filter((t) => t.status === 'ok').length + changed,
    changed,
    unreachable: run.hosts.filter((h) => h.status === 'unreachable').length,
    failed: run.hosts.filter((h) => h.status === 'failed').length,
    skipped: tasks.filter((t) => t.status === 'skipped').length,
  };
}

function changeCount(host: PageHost): number {
  return host.tasks.reduce((n, t) => n + t.changes.length, 0);
}

function summary(run: PageRun): Raw {
  const hosts = hostCounts(run);
  const recap = taskCounts(run);
  const exit =
    run.exitCode === undefined
      ? markup`<span class="muted">not recorded in this log</span>`
      : markup`<b class="${run.exitCode === 0 ? 'exit-0' : 'exit-bad'}" id="exit-code"
            >${run.exitCode}</b
          >
          — ${EXIT_MEANINGS[run.exitCode] ?? 'see the README'}`;
  const inventory = (run.inventory ?? []).map(
    (i) => markup`<div><code>${i.file}</code> <code class="muted">sha256:${i.sha256}</code></div>`,
  );
  return markup`<table class="summary">
    <tr>
      <th>command</th>
      <td>
        <code>hermes-fleet ${run.command}</code
        >${run.mode === 'check' ? ' (check mode: nothing was changed)' : ''}
      </td>
    </tr>
    <tr>
      <th>mode</th>
      <td id="mode">${run.mode === 'check' ? 'check' : 'run'}</td>
    </tr>
    <tr>
      <th>exit code</th>
      <td>${exit}</td>
    </tr>
    <tr>
      <th>hosts</th>
      <td class="counts" id="host-counts">
        ${STATUSES.map(
          (s) =>
            markup`<span
              ><span class="badge b-${s}">${s}</span> <b data-count="${s}">${hosts[s]}</b></span
            >`,
        )}
        <span class="muted">of ${run.hosts.length}</span>
      </td>
    </tr>
    <tr>
      <th>recap (tasks)</th>
      <td class="counts" id="recap">
        ${(['ok', 'changed', 'unreachable', 'failed', 'skipped'] as const).map(
          (k) => markup`<span>${k}=<b data-recap="${k}">${recap[k]}</b></span>`,
        )}
      </td>
    </tr>
    <tr>
      <th>started</th>
      <td>${run.startedAt ?? 'unknown'}</td>
    </tr>
    <tr>
      <th>duration</th>
      <td>${formatMs(run.durationMs)}${run.interrupted ? ' (interrupted)' : ''}</td>
    </tr>
    <tr>
      <th>run by</th>
      <td>${run.who ?? 'unknown'}</td>
    </tr>
    <tr>
      <th>inventory</th>
      <td>${inventory.length > 0 ? inventory : 'unknown'}</td>
    </tr>
  </table>`;
}

/** Hosts whose phases match to a fortieth of the run are drawn as one row when grouped. */
function signature(host: PageHost, totalMs: number): string {
  const bucket = totalMs / 40;
  const phases = (host.timeline ?? []).map(
    (p) =>
      `${p.phase}:${Math.round(p.startMs / bucket)}:${Math.round((p.endMs - p.startMs) / bucket)}`,
  );
  return `${host.status}|${phases.join(',')}`;
}

/** Lines a diff adds or removes, searched too ("which hosts got model X"), up to a bound. */
const SEARCHED_DIFF_CHARS = 2000;

function searchText(host: PageHost): string {
  const words = [host.host, host.status, host.message ?? '', host.rollback?.cause ?? ''];
  let diffChars = 0;
  for (const task of host.tasks) {
    words.push(taskLabel(task), task.message ?? '', ...task.changes.map((c) => c.summary));
    for (const change of task.changes) {
      for (const line of change.diff?.split('\n') ?? []) {
        if (!/^[+-]/.test(line) || /^(\+\+\+|---)/.test(line)) continue;
        if (diffChars + line.length > SEARCHED_DIFF_CHARS) break;
        diffChars += line.length;
        words.push(line.slice(1));
      }
    }
  }
  return words.join(' ').toLowerCase();
}

function timelineRow(run: PageRun, host: PageHost, index: number, prefix: string): Raw {
  const total = runTotalMs(run);
  const bars = (host.timeline ?? []).map(
    (p) =>
      markup`<span
        class="ph ph-${p.phase}"
        style="left:${percent(p.startMs, total)};width:${percent(p.endMs - p.startMs, total)}"
        title="${PHASE_LABEL[p.phase] ?? p.phase}: ${formatMs(p.endMs - p.startMs)} (at ${formatMs(p.startMs)})"
      ></span>`,
  );
  return markup`<tr
    data-host="${host.host}"
    data-status="${host.status}"
    data-ms="${host.durationMs}"
    data-i="${index}"
    data-sig="${signature(host, total)}"
    data-search="${searchText(host)}"
  >
    <td class="name">
      <a href="#${prefix}h-${host.host}">${host.host}</a><span class="group-count"></span>
    </td>
    <td><span class="badge b-${host.status}">${host.status}</span></td>
    <td class="num">${formatMs(host.durationMs)}</td>
    <td><div class="track">${bars}</div></td>
  </tr>`;
}

function timeline(run: PageRun, prefix: string): Raw {
  const total = runTotalMs(run);
  const step = tickStep(total);
  const ticks: Raw[] = [];
  for (let t = 0; t <= total; t += step) {
    ticks.push(markup`<span style="left:${percent(t, total)}">${formatMs(t)}</span>`);
  }
  return markup`<p class="legend">
      ${PHASES.map((p) => markup`<span><i class="l-${p}"></i>${PHASE_LABEL[p]}</span>`)}
    </p>
    <table class="timeline">
      <colgroup>
        <col class="c-host" />
        <col class="c-status" />
        <col class="c-ms" />
        <col />
      </colgroup>
      <thead>
        <tr>
          <th>host</th>
          <th>status</th>
          <th class="num">duration</th>
          <th><div class="axis">${ticks}</div></th>
        </tr>
      </thead>
      <tbody class="tl">
        ${run.hosts.map((h, i) => timelineRow(run, h, i, prefix))}
      </tbody>
    </table>`;
}

/** A unified diff, its lines coloured by kind. */
const NEWLINE = new Raw('\n');

function diffBlock(diff: string): Raw {
  const lines = diff.split('\n').map((line) => {
    const kind = line.startsWith('@@')
      ? 'hunk'
      : line.startsWith('+') && !line.startsWith('+++')
        ? 'add'
        : line.startsWith('-') && !line.startsWith('---')
          ? 'del'
          : '';
    return kind
      ? markup`<span class="${kind}">${line}</span>${NEWLINE}`
      : markup`${line}${NEWLINE}`;
  });
  return markup`<pre class="diff">${lines}</pre>`;
}

function changeItem(change: ReportChange): Raw {
  const keys = change.keys;
  const keyText = keys
    ? [
        keys.added.length > 0 ? `added ${keys.added.join(', ')}` : '',
        keys.changed.length > 0 ? `changed ${keys.changed.join(', ')}` : '',
        keys.removed.length > 0 ? `removed ${keys.removed.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')
    : '';
  return markup`<li>
    ${change.summary}
    ${change.secret ? markup`<span class="keys">(secret: ${keyText || 'changed'}; values never shown)</span>` : ''}
    ${change.removes && change.removes.length > 0 ? markup`<span class="keys">removes ${change.removes.join(', ')}</span>` : ''}
    ${change.diff !== undefined ? diffBlock(change.diff) : ''}
  </li>`;
}

function taskRow(task: ReportTask): Raw {
  return markup`<tr>
    <td>${taskLabel(task)}</td>
    <td><span class="badge b-${task.status}">${task.status}</span></td>
    <td class="num">${formatMs(task.durationMs)}</td>
    <td>
      ${task.message !== undefined && task.status !== 'failed' ? markup`<span class="muted">${task.message}</span>` : ''}
      ${
        task.changes.length > 0
          ? markup`<ul class="changes">
              ${task.changes.map(changeItem)}
            </ul>`
          : ''
      }
    </td>
  </tr>`;
}

const JOURNAL_MARK = '--- last log lines ---';

/** The failure: its message, the unit's journal lines (apply.sh appends them), the rollback. */
function failure(host: PageHost): Raw {
  if (host.message === undefined && !host.rollback) return markup``;
  const message = host.message ?? '';
  const at = message.indexOf(JOURNAL_MARK);
  const text = at >= 0 ? message.slice(0, at).trimEnd() : message;
  const journal = at >= 0 ? message.slice(at + JOURNAL_MARK.length).replace(/^\n/, '') : '';
  const rb = host.rollback;
  let rolled: Raw = markup``;
  if (rb) {
    const to = rb.generation !== null ? `generation ${rb.generation}` : 'the state before this run';
    const put = host.tasks.flatMap((t) => t.changes.filter((c) => c.kind !== 'wait-healthy'));
    const what =
      rb.outcome === 'not-rolled-back'
        ? markup`<b>Not rolled back</b>
            (${rb.reason === 'first-deploy' ? 'first deploy: nothing to go back to' : '--no-rollback'}):
            left as this run made it.`
        : markup`<b>${rb.outcome === 'rolled-back' ? 'Rolled back' : 'Rollback failed'}</b> to ${to}:
            the ${put.length} change${put.length === 1 ? '' : 's'} of this run listed below
            ${rb.outcome === 'rolled-back' ? 'were put back, and the host passed its health check again' : 'were being put back'}.
            ${rb.outcome === 'rollback-failed' && rb.message !== undefined ? markup`<pre>${rb.message}</pre>` : ''}`;
    rolled = markup`<div class="rolled" data-rollback="${rb.outcome}">${what}</div>`;
  }
  return markup`${
    text !== ''
      ? markup`<h3>
            ${host.status === 'unreachable' ? 'Unreachable' : 'Failure'}${host.failedTask !== undefined ? ` in ${failedTaskLabel(host)}` : ''}
          </h3>
          <pre class="message">${text}</pre>`
      : ''
  }
  ${
    journal !== ''
      ? markup`<h3>The unit's last journal lines</h3>
          <pre class="journal">${journal}</pre>`
      : ''
  }
  ${rolled}`;
}

function hostSection(host: PageHost, prefix: string): Raw {
  const changes = changeCount(host);
  const open = host.status === 'failed' || host.status === 'unreachable';
  return markup`<details
    class="host s-${host.status}"
    id="${prefix}h-${host.host}"
    data-status="${host.status}"
    data-search="${searchText(host)}"
    ${open ? markup`open` : ''}
  >
    <summary>
      <b>${host.host}</b> <span class="badge b-${host.status}">${host.status}</span>
      <span class="muted"
        >${formatMs(host.durationMs)} · ${changes} change${changes === 1 ? '' : 's'}</span
      >
    </summary>
    ${failure(host)} ${host.cutOff !== undefined ? markup`<p class="muted">${host.cutOff}</p>` : ''}
    ${host.lockTakenOver !== undefined ? markup`<p class="muted">${host.lockTakenOver}</p>` : ''}
    ${
      host.tasks.length > 0
        ? markup`<table class="tasks">
            <tr>
              <th>task</th>
              <th>status</th>
              <th class="num">duration</th>
              <th>changes</th>
            </tr>
            ${host.tasks.map(taskRow)}
          </table>`
        : ''
    }
  </details>`;
}

function runSection(run: PageRun, prefix: string, heading: boolean): Raw {
  return markup`<section class="run" id="${prefix}run">
    ${heading ? markup`<h2>${run.command} ${run.mode === 'check' ? '--check ' : ''}at ${run.startedAt ?? '?'}</h2>` : ''}
    ${summary(run)}
    <h2>Timeline</h2>
    ${timeline(run, prefix)}
    <h2>Hosts</h2>
    ${run.hosts.map((h) => hostSection(h, prefix))}
  </section>`;
}

function controls(): Raw {
  return markup`<div id="controls" hidden>
    <span
      >show:
      ${STATUSES.map(
        (s) =>
          markup`<label><input type="checkbox" name="status" value="${s}" checked /> ${s}</label> `,
      )}</span
    >
    <label
      >search <input id="search" type="search" placeholder="host, task, change, message"
    /></label>
    <label
      >sort
      <select id="sort">
        <option value="inventory">inventory order</option>
        <option value="duration">by duration</option>
        <option value="failure">failures first</option>
      </select></label
    >
    <label><input id="group" type="checkbox" /> group identical timelines</label>
    <span id="shown" class="muted"></span>
  </div>`;
}

function historyTable(runs: readonly PageRun[]): Raw {
  return markup`<table class="runs">
    <tr>
      <th>run</th>
      <th>started</th>
      <th>command</th>
      <th>exit</th>
      <th>hosts</th>
      <th class="num">duration</th>
    </tr>
    ${runs.map((run, i) => {
      const c = hostCounts(run);
      return markup`<tr>
        <td><a href="#r${i}-run">#${i + 1}</a></td>
        <td>${run.startedAt ?? '?'}</td>
        <td>${run.command}${run.mode === 'check' ? ' --check' : ''}</td>
        <td>${run.exitCode ?? '?'}</td>
        <td>
          ${STATUSES.filter((s) => c[s] > 0).map((s) => markup`<span class="badge b-${s}">${s} ${c[s]}</span> `)}
        </td>
        <td class="num">${formatMs(run.durationMs)}</td>
      </tr>`;
    })}
  </table>`;
}

/**
 * The page: one run, or several (a history, newest last, each with its own summary, timeline
 * and hosts).
 */
export function renderHtml(runs: readonly PageRun[]): string {
  const last = runs[runs.length - 1];
  const title =
    runs.length === 1 && last
      ? `hermes-fleet ${last.command}${last.mode === 'check' ? ' --check' : ''} ${last.startedAt ?? ''}`
      : `hermes-fleet: ${runs.length} runs`;
  const body =
    runs.length === 1 && last
      ? runSection(last, '', false)
      : markup`<h2>History</h2>
          ${historyTable(runs)} ${runs.map((run, i) => runSection(run, `r${i}-`, true))}`;
  const page = markup`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="hermes-fleet" />
        <title>${title.trim()}</title>
        <style>
          ${new Raw(PAGE_CSS)}
        </style>
      </head>
      <body>
        <h1>${title.trim()}</h1>
        ${controls()} ${body}
        <script>
          ${new Raw(PAGE_JS)};
        </script>
      </body>
    </html>`;
  return `${page.html}\n`;
}
