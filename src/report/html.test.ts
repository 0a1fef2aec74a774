import { describe, expect, it } from 'vitest';
import type { RunResult } from '../runner/types.js';
import { expectNoSecret, failedHost, sampleRun } from '../../test/utils/run-results.js';
import { renderHtml } from './html.js';
import { pageRunsOfLog } from './html-model.js';
import { renderRunHtml } from './html-run.js';
import { toLogLines } from './log.js';

const context = {
  command: 'run',
  who: 'ci@builder',
  inventory: [{ file: 'hosts.yaml', sha256: 'ab'.repeat(32) }],
};
const startedAt = new Date('2026-05-02T09:16:04.000Z');

/** The sample run, with a timeline on its changed host and a rolled-back failed one. */
function run(): RunResult {
  const result = sampleRun();
  const [changed, , failed] = result.hosts;
  if (changed) {
    changed.timeline = [
      { phase: 'connect', startMs: 0, endMs: 100 },
      { phase: 'read', startMs: 100, endMs: 300 },
      { phase: 'apply', startMs: 300, endMs: 600 },
      { phase: 'restart', startMs: 600, endMs: 700 },
      { phase: 'health', startMs: 700, endMs: 1200 },
    ];
  }
  if (failed) {
    failed.message =
      'rolled back to generation 3: health check failed\n--- last log lines ---\nMay 02 boom <b>"x"</b>';
    failed.rollback = { outcome: 'rolled-back', generation: 3, cause: 'health check failed' };
  }
  return result;
}

function page(result = run(), diff = true): string {
  return renderRunHtml(result, { diff, startedAt, context });
}

describe('the HTML report', () => {
  it('is one file that loads nothing: no script, style or image from elsewhere', () => {
    const text = page();
    expect(text.startsWith('<!doctype html>')).toBe(true);
    expect(text).not.toMatch(/<(link|img|iframe)\b/i);
    expect(text).not.toMatch(/\b(src|href)="(?!#)/i);
    expect(text).not.toMatch(/https?:\/\//);
  });

  it('holds no secret value, diffs included (the fixtures hold the tests’ secret values)', () => {
    const text = page();
    expectNoSecret(text);
    // Secret files show by key name only.
    expect(text).toContain('values never shown');
    expect(text).toContain('OPENROUTER_API_KEY');
  });

  it('the summary: counts, the exit code and its meaning, who, the inventory sha256, the mode', () => {
    const text = page();
    expect(text).toContain('data-count="failed">1<');
    expect(text).toContain('data-count="changed">1<');
    expect(text).toContain('data-count="unreachable">1<');
    expect(text).toContain('id="exit-code"');
    expect(text).toMatch(/>2<\/b\s*>\s*— at least one host failed/);
    expect(text).toContain('ci@builder');
    expect(text).toContain(`sha256:${'ab'.repeat(32)}`);
    expect(text).toContain('id="mode">run<');
  });

  it('a row per host on the timeline, each phase drawn to scale', () => {
    const text = page();
    expect(text.match(/<tr\s+data-host=/g)).toHaveLength(5);
    // 6100 ms run: the health wait 700..1200 ms.
    expect(text).toContain('class="ph ph-health"\n');
    expect(text).toMatch(/left:11\.48%;width:8\.20%/);
  });

  it('a failure: its message, the journal lines apart, and what was rolled back', () => {
    const text = page();
    expect(text).toContain(
      '<pre class="journal">May 02 boom &lt;b&gt;&quot;x&quot;&lt;/b&gt;</pre>',
    );
    expect(text).toContain('data-rollback="rolled-back"');
    expect(text).toContain('to generation 3');
  });

  it('escapes every value from the run, in text and in attributes', () => {
    const result = run();
    result.hosts.push(
      failedHost('evil"><script>alert(1)</script>', '<img src=x onerror=alert(1)>'),
    );
    const text = page(result);
    expect(text).not.toContain('<script>alert(1)');
    expect(text).not.toContain('<img src=x');
    expect(text).toContain('evil&quot;&gt;&lt;script&gt;');
    expect(text.match(/<script>/g)).toHaveLength(1);
  });

  it('the diffs only with --diff', () => {
    const diff = /<pre class="diff">([\s\S]*?)<\/pre>/.exec(page(run(), true))?.[1] ?? '';
    // One line of the diff a line of the block, each kind marked.
    expect(diff.split('\n').length).toBeGreaterThan(4);
    expect(diff).toMatch(/\n<span class="hunk">@@ [^\n]*<\/span>\n/);
    expect(diff).toMatch(/\n<span class="add">\+[^\n]*<\/span>\n/);
    expect(page(run(), false)).not.toContain('<pre class="diff">');
  });
});

describe('the HTML report from --log lines', () => {
  it('gives the same hosts, counts and timeline as the run itself', () => {
    const lines = toLogLines(run(), startedAt, { diff: true, context });
    expectNoSecret(lines);
    const [fromLog] = pageRunsOfLog(lines);
    expect(fromLog?.exitCode).toBe(2);
    expect(fromLog?.who).toBe('ci@builder');
    expect(fromLog?.hosts.map((h) => [h.host, h.status])).toEqual(
      run().hosts.map((h) => [h.host, h.status]),
    );
    expect(fromLog?.hosts[0]?.timeline).toEqual(run().hosts[0]?.timeline);
    expect(fromLog?.hosts[2]?.rollback?.outcome).toBe('rolled-back');
    expect(fromLog?.hosts[3]?.message).toContain('ETIMEDOUT');
    const text = renderHtml(fromLog ? [fromLog] : []);
    expectNoSecret(text);
    expect(text).toContain('data-count="failed">1<');
  });

  it('a history: the newest N runs, each its own section', () => {
    const first = toLogLines(run(), startedAt, { context });
    const second = toLogLines(run(), new Date('2026-05-02T10:00:00.000Z'), { context });
    const third = toLogLines(run(), new Date('2026-05-02T11:00:00.000Z'), { context });
    const runs = pageRunsOfLog(first + second + third, 2);
    expect(runs.map((r) => r.startedAt)).toEqual([
      '2026-05-02T10:00:00.000Z',
      '2026-05-02T11:00:00.000Z',
    ]);
    const text = renderHtml(runs);
    expect(text).toContain('id="r0-run"');
    expect(text).toContain('id="r1-run"');
    expect(text).toContain('id="r1-h-web03"');
  });

  it('a line that is not a log line says which', () => {
    expect(() =>
      pageRunsOfLog('{"time":"x","host":"a","status":"ok","mode":"run"}\nnope\n'),
    ).toThrow('line 2: not JSON');
  });
});
