// Issue 28: the run as a web page. A real run on ten test hosts (one rolled back, one failed on
// its first deploy, one changed, seven in sync) plus an address with nothing there, written with
// --html and --log; the page (and the one `report` makes from the log) opened in Debian's
// headless chromium: the DOM after its script ran, the filters and the search through the URL's
// hash, no secret value anywhere in the file, and a screenshot kept under test-output/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escape } from 'html-escaper';
import { parse, stringify } from 'yaml';
import { beforeAll, expect, it } from 'vitest';
import { FLEET_NET, bootFleet, describeFleet, writeFleetInventory } from '../fleet/fleet.js';
import { CHROMIUM, renderedDom, screenshot } from './chromium.js';
import { runCli } from './cli.js';

const HOSTS = 10;
/** Screenshots and pages a CI job keeps as artifacts (git-ignored). */
const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output');
// The secret values of the other e2e files: a key, and one made to break out of HTML and shell.
const secretValue = 'sk-or-v1-SECRET-e2e-0123456789';
const hostileSecret =
  'it\'s "quoted" $(touch /tmp/pwned-1) `touch /tmp/pwned-2` <script>alert(1)</script> & SECRET-html';

/** Timeline rows of the DOM: host, status, and whether the script hid it. */
function rows(dom: string): { host: string; status: string; hidden: boolean; sig: string }[] {
  return [...dom.matchAll(/<tr ([^>]*data-host="[^"]*"[^>]*)>/g)].map((m) => {
    const attrs = m[1] ?? '';
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(attrs)?.[1] ?? '';
    return {
      host: attr('data-host'),
      status: attr('data-status'),
      hidden: /(^|\s)hidden(=""|\s|$)/.test(attrs),
      sig: attr('data-sig'),
    };
  });
}

const visibleHosts = (dom: string) =>
  rows(dom)
    .filter((r) => !r.hidden)
    .map((r) => r.host)
    .sort();

function expectNoSecretIn(text: string, what: string): void {
  for (const value of [secretValue, hostileSecret]) {
    expect(text, what).not.toContain(value);
    expect(text, what).not.toContain(escape(value));
  }
  expect(text, what).not.toContain('SECRET-html');
  expect(text, what).not.toContain('SECRET-e2e');
}

describeFleet('the run as a web page, in headless chromium', () => {
  let page: string;
  let fromLog: string;
  let runCode: number;
  let inventory: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: bash test/provision.sh installs Debian's chromium`);
    }
    mkdirSync(OUTPUT, { recursive: true });
    await bootFleet(HOSTS);
    const hermes = {
      settings: { model: 'good/model' },
      secrets: {
        OPENROUTER_API_KEY: { env: 'E2E_HTML_KEY' },
        HOSTILE_TOKEN: { env: 'E2E_HTML_HOSTILE' },
      },
      documents: { 'SOUL.md': 'good soul\n' },
      healthCheck: { seconds: 2 },
    };
    const env = { E2E_HTML_KEY: secretValue, E2E_HTML_HOSTILE: hostileSecret };
    const good = writeFleetInventory(HOSTS, { all: { vars: { hermes } } });
    inventory = good;
    // Every host but host2 deployed first: host2's first deploy is the run's plain failure.
    const first = await runCli(['run', '-i', good, '-l', '!host2'], { env });
    expect(first.code, first.all).toBe(0);

    // The run on the page: host1's gateway now fails at start-up (rolled back), host2's too on
    // its first deploy (failed, nothing to go back to), host3 gets a new setting (changed), the
    // others are in sync, and `ghost` has nothing at its address (unreachable).
    const doc = parse(readFileSync(good, 'utf8')) as {
      all: { vars: { ssh: Record<string, unknown> }; hosts: Record<string, object> };
    };
    doc.all.vars.ssh.connectTimeout = 3;
    const failing = { environment: { HERMES_STANDIN_FAIL: '1' } };
    doc.all.hosts.host1 = { ...doc.all.hosts.host1, hermes: failing };
    doc.all.hosts.host2 = { ...doc.all.hosts.host2, hermes: failing };
    doc.all.hosts.host3 = {
      ...doc.all.hosts.host3,
      hermes: { settings: { model: 'newer/model' } },
    };
    doc.all.hosts.ghost = { ssh: { host: `127.0.${FLEET_NET}.250` } };
    const mixed = join(dirname(good), 'mixed.yaml');
    writeFileSync(mixed, stringify(doc));

    page = join(OUTPUT, 'run.html');
    const log = join(dirname(good), 'run.jsonl');
    const run = await runCli(['run', '-i', mixed, '--diff', '--html', page, '--log', log], {
      env,
    });
    runCode = run.code;
    expect(run.code, run.all).toBe(2);
    fromLog = join(OUTPUT, 'from-log.html');
    const report = await runCli(['report', log, '-o', fromLog]);
    expect(report.code, report.all).toBe(0);
  });

  it('the file holds no secret value, raw or escaped, and loads nothing from elsewhere', () => {
    for (const file of [page, fromLog]) {
      const text = readFileSync(file, 'utf8');
      expectNoSecretIn(text, file);
      expect(text).not.toMatch(/<(link|img|iframe)\b/i);
      expect(text).not.toMatch(/https?:\/\//);
      // Secret files by key name only.
      expect(text).toContain('HOSTILE_TOKEN');
    }
  });

  it('the DOM: a row per host, the counts, the exit code, the rollback and the journal lines', async () => {
    expect(runCode).toBe(2);
    for (const file of [page, fromLog]) {
      const dom = await renderedDom(file);
      const all = rows(dom);
      expect(all.map((r) => r.host)).toEqual([
        ...Array.from({ length: HOSTS }, (_, i) => `host${i + 1}`),
        'ghost',
      ]);
      const status = Object.fromEntries(all.map((r) => [r.host, r.status]));
      expect(status).toMatchObject({
        host1: 'failed',
        host2: 'failed',
        host3: 'changed',
        host4: 'ok',
        ghost: 'unreachable',
      });
      expect(dom).toContain('data-count="failed">2<');
      expect(dom).toContain('data-count="changed">1<');
      expect(dom).toContain('data-count="ok">7<');
      expect(dom).toContain('data-count="unreachable">1<');
      expect(dom).toMatch(/id="exit-code"[^>]*>2</);
      expect(dom).toContain('11 of 11 hosts match');
      // host1 rolled back, host2 not (a first deploy); both show the unit's journal.
      const host1 = /<details[^>]*id="h-host1"[\s\S]*?<\/details>/.exec(dom)?.[0] ?? '';
      expect(host1).toContain('data-rollback="rolled-back"');
      expect(host1).toContain('class="journal"');
      expect(host1).toContain('failing on purpose');
      const host2 = /<details[^>]*id="h-host2"[\s\S]*?<\/details>/.exec(dom)?.[0] ?? '';
      expect(host2).toContain('data-rollback="not-rolled-back"');
      // The restart and health wait drawn on the timeline; host3's diff shown (--diff).
      expect(dom).toContain('ph ph-health');
      expect(dom).toContain('ph ph-rollback');
      const host3 = /<details[^>]*id="h-host3"[\s\S]*?<\/details>/.exec(dom)?.[0] ?? '';
      expect(host3).toMatch(/<span class="add">\+model: newer\/model<\/span>/);
    }
  });

  it('the filters and the search hide the rows they should', async () => {
    expect(visibleHosts(await renderedDom(page, 'status=failed'))).toEqual(['host1', 'host2']);
    expect(visibleHosts(await renderedDom(page, 'status=unreachable,changed'))).toEqual([
      'ghost',
      'host3',
    ]);
    expect(visibleHosts(await renderedDom(page, 'status=ok'))).toHaveLength(7);
    const searched = await renderedDom(page, 'q=newer%2Fmodel');
    expect(visibleHosts(searched)).toEqual(['host3']);
    expect(searched).toContain('1 of 11 hosts match');
    // Grouped: one row stands for each timeline, never a host without its like shown.
    const grouped = rows(await renderedDom(page, 'group=1'));
    const shown = new Set(grouped.filter((r) => !r.hidden).map((r) => r.sig));
    for (const r of grouped) expect(shown.has(r.sig), r.host).toBe(true);
    // Failures first: the failed hosts, then the unreachable one, lead the table.
    const sorted = rows(await renderedDom(page, 'sort=failure'));
    expect(sorted.slice(0, 3).map((r) => r.status)).toEqual(['failed', 'failed', 'unreachable']);
  });

  it('restart --html: the page of a restart, its restart and health wait on the timeline', async () => {
    const restarted = join(OUTPUT, 'restart.html');
    const result = await runCli([
      'restart',
      '-i',
      inventory,
      '-l',
      'host4,host5',
      '--html',
      restarted,
    ]);
    expect(result.code, result.all).toBe(0);
    const dom = await renderedDom(restarted);
    expect(rows(dom).map((r) => [r.host, r.status])).toEqual([
      ['host4', 'changed'],
      ['host5', 'changed'],
    ]);
    expect(dom).toContain('hermes-fleet restart');
    expect(dom).toContain('ph ph-restart');
    expect(dom).toContain('ph ph-health');
    expectNoSecretIn(readFileSync(restarted, 'utf8'), restarted);
  });

  it('saves a screenshot (a CI artifact under test-output/)', async () => {
    const png = join(OUTPUT, 'html-report.png');
    await screenshot(page, png);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(bytes.length).toBeGreaterThan(10_000);
  });
});
