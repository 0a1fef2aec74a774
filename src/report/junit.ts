import type { HostResult, RunResult, TaskResult } from '../runner/types.js';
import { recordOf } from '../changes/index.js';
import { describeChange } from './change-kinds.js';

/**
 * XML 1.0 cannot hold most control characters even escaped, and a lone surrogate is not a
 * character: both are dropped.
 */
function xmlChars(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
  );
}

/** Text content: `]]>` cannot survive because every `>` is escaped too. */
export function escapeXmlText(text: string): string {
  return xmlChars(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute value in double quotes; line breaks kept as character references. */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
    .join('');
}

function time(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

interface Case {
  name: string;
  durationMs: number;
  /** failure/error/skipped element, or '' for a pass. */
  body: string;
  kind: 'pass' | 'failure' | 'error' | 'skipped';
}

/**
 * A JUnit XML report for CI dashboards: a testsuite per host, a testcase per task
 * (classname `hermes-fleet.HOST`). A failed task is a `<failure>`; in check mode a task that
 * would change is a `<failure type="drift">` so drift shows up red; an unreachable host is one
 * `connect` testcase with an `<error>`. Change summaries never carry file contents.
 */
export function toJUnitXml(result: RunResult): string {
  const suites = result.hosts.map((host) => ({ host, cases: hostCases(host, result.mode) }));
  const total = (kind: Case['kind'] | 'all'): number =>
    suites.reduce((n, s) => n + s.cases.filter((c) => kind === 'all' || c.kind === kind).length, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({
      name: `hermes-fleet ${result.mode}`,
      tests: total('all'),
      failures: total('failure'),
      errors: total('error'),
      skipped: total('skipped'),
      time: time(result.durationMs),
    })}>`,
  ];
  for (const { host, cases } of suites) {
    const count = (kind: Case['kind']): number => cases.filter((c) => c.kind === kind).length;
    lines.push(
      `  <testsuite${attrs({
        name: host.host,
        tests: cases.length,
        failures: count('failure'),
        errors: count('error'),
        skipped: count('skipped'),
        time: time(host.durationMs),
      })}>`,
    );
    for (const c of cases) {
      const open = `    <testcase${attrs({ classname: `hermes-fleet.${host.host}`, name: c.name, time: time(c.durationMs) })}`;
      lines.push(c.body === '' ? `${open}/>` : `${open}>\n      ${c.body}\n    </testcase>`);
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function hostCases(host: HostResult, mode: RunResult['mode']): Case[] {
  if (host.status === 'unreachable') {
    const message = host.message ?? 'host unreachable';
    return [
      {
        name: 'connect',
        durationMs: host.durationMs,
        kind: 'error',
        body: element('error', { type: 'unreachable', message }, message),
      },
    ];
  }
  const cases = host.tasks.map((task) => taskCase(task, mode));
  const failureShown = host.tasks.some((t) => t.status === 'failed');
  if (host.status === 'failed' && !failureShown) {
    // Failed outside a task's result (reading facts, planning): still one red testcase.
    const message = host.message ?? 'failed';
    cases.push({
      name: host.failedTask ?? 'host',
      durationMs: 0,
      kind: 'failure',
      body: element('failure', { type: 'failed', message }, message),
    });
  }
  if (cases.length === 0 && host.status === 'skipped') {
    cases.push({
      name: 'run',
      durationMs: 0,
      kind: 'skipped',
      body: element('skipped', { message: host.message ?? 'not run' }),
    });
  }
  return cases;
}

function taskCase(task: TaskResult, mode: RunResult['mode']): Case {
  const base = { name: task.task, durationMs: task.durationMs };
  switch (task.status) {
    case 'ok':
      return { ...base, kind: 'pass', body: '' };
    case 'changed': {
      if (mode !== 'check') return { ...base, kind: 'pass', body: '' };
      // Bookkeeping of the run (the pending-restart note) is not drift of the host.
      const summaries = task.changes.filter((change) => recordOf(change).drift).map(describeChange);
      return {
        ...base,
        kind: 'failure',
        body: element(
          'failure',
          { type: 'drift', message: `would change: ${summaries.join('; ') || task.task}` },
          summaries.join('\n'),
        ),
      };
    }
    case 'failed': {
      const message = task.message ?? 'failed';
      return {
        ...base,
        kind: 'failure',
        body: element('failure', { type: 'failed', message }, message),
      };
    }
    case 'skipped':
      return {
        ...base,
        kind: 'skipped',
        body: element('skipped', task.message === undefined ? {} : { message: task.message }),
      };
  }
}

function element(name: string, attributes: Record<string, string>, text?: string): string {
  return text === undefined || text === ''
    ? `<${name}${attrs(attributes)}/>`
    : `<${name}${attrs(attributes)}>${escapeXmlText(text)}</${name}>`;
}
