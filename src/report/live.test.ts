import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HostResult, RunObserver } from '../runner/types.js';
import {
  createLiveView,
  finishedTitle,
  runningTitle,
  summaryLines,
  summaryTitle,
  useCompactView,
  type LiveViewOptions,
} from './live.js';
import {
  changedHost,
  expectNoSecret,
  failedHost,
  okHost,
  replay,
  sampleRun,
  skippedHost,
  unreachableHost,
} from '../../test/utils/run-results.js';

/** A stream that keeps what listr2 draws into it. */
function capture(): { stream: NodeJS.WriteStream; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    stream: stream as unknown as NodeJS.WriteStream,
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

interface TestEvent {
  event: string;
  data: unknown;
  task?: { title?: string; path?: string[] };
}

function events(text: string): TestEvent[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as TestEvent);
}

/** Replays a run with a turn of the event loop between events, as a real run has. */
async function replaySlowly(observer: RunObserver, hosts: HostResult[]): Promise<void> {
  const calls: (() => void)[] = [];
  const target: RunObserver = {};
  const recorder = new Proxy(target, {
    get:
      (_target, name: keyof RunObserver) =>
      (...args: unknown[]) => {
        calls.push(() => {
          (observer[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
        });
      },
  });
  replay(recorder, { ...sampleRun(), hosts });
  for (const call of calls) {
    await new Promise((resolve) => setImmediate(resolve));
    call();
  }
}

async function runView(hosts: HostResult[], options: Partial<LiveViewOptions> = {}) {
  const out = capture();
  const view = createLiveView(
    hosts.map((h) => h.host),
    {
      verbose: 0,
      diff: false,
      color: false,
      renderer: 'test',
      output: out.stream,
      rows: 40,
      ...options,
    },
  );
  await replaySlowly(view.observer, hosts);
  await view.done();
  return out.text();
}

describe('live view titles', () => {
  it('shows the current task or phase while a host runs', () => {
    expect(runningTitle({ host: 'web01', activity: 'merge' })).toBe('web01: merge');
  });

  it('shows the outcome when a host is done', () => {
    expect(finishedTitle(changedHost())).toBe(
      'web01: changed (users, dirs, merge, secrets, service) 1.2s',
    );
    expect(finishedTitle(okHost())).toBe('web02: ok 0.8s');
    expect(finishedTitle(failedHost())).toBe(
      'web03: failed in service: hermes-agent.service did not stay active …',
    );
    expect(finishedTitle(unreachableHost())).toBe(
      'web04: unreachable: connect ETIMEDOUT 10.0.0.4:22',
    );
    expect(finishedTitle(skippedHost())).toBe('web05: skipped: not started: interrupted');
  });

  it('switches to a summary when the hosts do not fit the terminal', () => {
    expect(useCompactView(19, 24)).toBe(false);
    expect(useCompactView(20, 24)).toBe(true);
    expect(useCompactView(100, 120)).toBe(false);
  });
});

describe('createLiveView', () => {
  it('draws one row per host whose title follows the runner, then the outcome', async () => {
    const text = await runView(sampleRun().hosts);
    const titles = events(text)
      .filter((e) => e.event === 'TITLE')
      .map((e) => e.data);
    expect(titles).toEqual(
      expect.arrayContaining([
        'web01: starting',
        'web01: connecting',
        'web01: reading facts',
        'web01: merge',
        'web01: changed (users, dirs, merge, secrets, service) 1.2s',
        'web02: ok 0.8s',
      ]),
    );
    const messages = events(text).filter((e) => e.event === 'MESSAGE');
    expect(messages.map((e) => e.data)).toEqual(
      expect.arrayContaining([
        { error: 'web03: failed in service: hermes-agent.service did not stay active …' },
        { error: 'web04: unreachable: connect ETIMEDOUT 10.0.0.4:22' },
        { skip: 'web05: skipped: not started: interrupted' },
      ]),
    );
    expectNoSecret(text);
  });

  it('finishes hosts the runner never finished when done() is called', async () => {
    const out = capture();
    const view = createLiveView(['a', 'b'], {
      verbose: 0,
      diff: false,
      color: false,
      renderer: 'test',
      output: out.stream,
      rows: 40,
    });
    view.observer.hostStarted?.('a');
    view.observer.hostFinished?.({ ...okHost('a') });
    await view.done();
    const skips = events(out.text())
      .filter((e) => e.event === 'MESSAGE')
      .map((e) => e.data);
    expect(skips).toEqual([{ skip: 'b: not run' }]);
  });

  it('prints each host changes after the view under -v, and diffs with --diff', async () => {
    const verbose = await runView(sampleRun().hosts, { verbose: 1 });
    const after = verbose.slice(verbose.lastIndexOf('}') + 1);
    expect(after).toContain('[web01] users: changed (0.12s)\n[web01]   create group hermes\n');
    expect(after).toContain('[web01] changed (1.23s): users, dirs, merge, secrets, service');
    const diff = await runView(sampleRun().hosts, { diff: true });
    const diffAfter = diff.slice(diff.lastIndexOf('}') + 1);
    expect(diffAfter).toContain('--- web01:/var/lib/hermes/.hermes/config.yaml (before)');
    expect(diffAfter).toContain('~ OPENROUTER_API_KEY (secret changed)');
    expect(diffAfter).not.toContain('[web01] users');
    expectNoSecret(diff + verbose);
  });

  it('prints nothing after the view without -v or --diff', async () => {
    const text = await runView(sampleRun().hosts);
    expect(text.slice(text.lastIndexOf('}') + 1).trim()).toBe('');
  });

  it('summarises 100 hosts on a small terminal in one row', async () => {
    const hosts = Array.from({ length: 100 }, (_, i) =>
      i === 7 ? failedHost(`h${String(i)}`) : okHost(`h${String(i)}`),
    );
    const text = await runView(hosts, { rows: 24 });
    const all = events(text);
    const paths = new Set(all.map((e) => e.task?.path?.join('/')));
    expect(paths.size).toBe(1);
    const error = all.find((e) => e.event === 'MESSAGE')?.data as { error?: string } | undefined;
    expect(error?.error).toMatch(
      /^100 hosts in \d+\.\ds: 99 ok, 0 changed, 1 failed, 0 unreachable$/,
    );
    const outputs = all.filter((e) => e.event === 'OUTPUT').map((e) => String(e.data));
    expect(outputs.at(-1)).toBe(
      'h7: failed in service: hermes-agent.service did not stay active …',
    );
    expect(outputs.some((o) => o.includes('h0: '))).toBe(true);
  });

  it('lists only as many running hosts as fit', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({
      host: `h${String(i)}`,
      started: true,
      activity: 'merge',
      tasksDone: [],
      transcript: [],
      failureShown: false,
      finished: Promise.resolve(undefined),
      settle: () => undefined,
    }));
    const lines = summaryLines(rows, 5, false);
    expect(lines).toEqual([
      'h0: merge',
      'h1: merge',
      'h2: merge',
      'h3: merge',
      '… and 46 more running',
    ]);
    expect(summaryTitle(rows)).toBe(
      '50 hosts: 50 running, 0 waiting, 0 done (0 ok, 0 changed, 0 failed, 0 unreachable)',
    );
  });

  it('does not crash off a terminal with the default renderer (falls back to simple)', async () => {
    const out = capture();
    const view = createLiveView(['web01', 'web02'], {
      verbose: 0,
      diff: false,
      color: false,
      output: out.stream,
      rows: 40,
    });
    replay(view.observer, { ...sampleRun(), hosts: [changedHost(), failedHost('web02')] });
    await view.done();
    const text = out.text();
    expect(text).toContain('web01: changed (users, dirs, merge, secrets, service) 1.2s');
    expect(text).toContain('web02: failed in service');
  });
});
