import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Secret } from '../secret.js';
import { jsonReportSchema, reportJsonSchema } from './json-schema.js';
import { refuseSecrets, renderJsonReport, toJsonReport } from './json.js';
import { ENV_PATH, expectNoSecret, sampleRun } from '../../test/utils/run-results.js';

function changesOf(report: ReturnType<typeof toJsonReport>, host: string, task: string) {
  return (
    report.hosts.find((h) => h.host === host)?.tasks.find((t) => t.task === task)?.changes ?? []
  );
}

describe('toJsonReport', () => {
  it('matches the schema, with and without diffs, in run and check mode', () => {
    for (const mode of ['run', 'check'] as const) {
      for (const diff of [false, true]) {
        const report = toJsonReport(sampleRun(mode), { diff, startedAt: new Date(0) });
        expect(() => jsonReportSchema.parse(report)).not.toThrow();
        expect(JSON.parse(renderJsonReport(sampleRun(mode), { diff }))).toEqual(
          jsonReportSchema.parse(JSON.parse(renderJsonReport(sampleRun(mode), { diff }))),
        );
      }
    }
  });

  it('has the documented top level', () => {
    const report = toJsonReport(sampleRun(), {
      diff: false,
      startedAt: new Date('2025-01-02T03:04:05Z'),
    });
    expect(Object.keys(report)).toEqual([
      'version',
      'mode',
      'startedAt',
      'durationMs',
      'exitCode',
      'interrupted',
      'recap',
      'hosts',
    ]);
    expect(report).toMatchObject({
      version: 1,
      mode: 'run',
      startedAt: '2025-01-02T03:04:05.000Z',
      durationMs: 6100,
      exitCode: 2,
      interrupted: false,
    });
    expect(report.recap).toEqual({
      web01: { ok: 6, changed: 5, unreachable: 0, failed: 0, skipped: 0 },
      web02: { ok: 6, changed: 0, unreachable: 0, failed: 0, skipped: 0 },
      web03: { ok: 4, changed: 0, unreachable: 0, failed: 1, skipped: 1 },
      web04: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0 },
      web05: { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0 },
    });
    expect(report.hosts[2]).toMatchObject({
      host: 'web03',
      status: 'failed',
      failedTask: 'service',
      message: expect.stringContaining('did not stay active') as unknown,
    });
    expect(report.hosts[3]).toEqual({
      host: 'web04',
      status: 'unreachable',
      durationMs: 5000,
      message: 'connect ETIMEDOUT 10.0.0.4:22',
      stats: { roundTrips: 0, channels: 0, connections: 1 },
      tasks: [],
    });
  });

  it('describes each change with its summary, path and attributes', () => {
    const report = toJsonReport(sampleRun(), { diff: false });
    expect(changesOf(report, 'web01', 'dirs')).toEqual([
      {
        kind: 'dir',
        path: '/var/lib/hermes',
        summary: 'create directory /var/lib/hermes (0750 hermes:hermes)',
        mode: { before: null, after: '0750' },
        owner: { before: null, after: 'hermes:hermes' },
      },
    ]);
    expect(changesOf(report, 'web01', 'service')).toEqual([
      {
        kind: 'systemd',
        unit: 'hermes-agent.service',
        action: 'restart',
        summary: 'restart hermes-agent.service (config.yaml changed)',
      },
      {
        kind: 'wait-healthy',
        unit: 'hermes-agent.service',
        summary: 'wait until hermes-agent.service is healthy (3s)',
      },
    ]);
    expect(changesOf(report, 'web01', 'users').map((c) => c.summary)).toEqual([
      'create group hermes',
      'create user hermes (home /var/lib/hermes, shell /bin/bash)',
    ]);
  });

  it('includes the diff of a text file only with diff', () => {
    const [without] = changesOf(toJsonReport(sampleRun(), { diff: false }), 'web01', 'merge');
    expect(without?.diff).toBeUndefined();
    expect(without?.mode).toEqual({ before: '0600', after: '0640' });
    const [withDiff] = changesOf(toJsonReport(sampleRun(), { diff: true }), 'web01', 'merge');
    expect(withDiff?.diff).toContain('--- web01:/var/lib/hermes/.hermes/config.yaml (before)');
    expect(withDiff?.diff).toContain('+  default: new');
    expect(withDiff?.diff?.includes('\u001b')).toBe(false);
  });

  it('gives secret files key names only, never content or a diff', () => {
    const report = toJsonReport(sampleRun(), { diff: true });
    const [env, auth] = changesOf(report, 'web01', 'secrets');
    expect(env).toEqual({
      kind: 'file',
      path: ENV_PATH,
      summary: 'update /var/lib/hermes/.hermes/.env (mode 0750 → 0600)',
      mode: { before: '0750', after: '0600' },
      secret: true,
      keys: {
        added: ['NEW_KEY'],
        removed: ['REMOVED_KEY'],
        changed: ['OPENROUTER_API_KEY', 'LOG_LEVEL'],
      },
    });
    expect(auth?.keys).toEqual({ added: ['version'], removed: ['legacy'], changed: ['providers'] });
    expect(auth?.diff).toBeUndefined();
  });

  it('never contains a secret value, however it is serialised', () => {
    for (const mode of ['run', 'check'] as const) {
      for (const diff of [false, true]) {
        const report = toJsonReport(sampleRun(mode), { diff });
        expectNoSecret(JSON.stringify(report));
        expectNoSecret(renderJsonReport(sampleRun(mode), { diff }));
        expect(JSON.stringify(report)).not.toContain('***');
      }
    }
  });
});

describe('refuseSecrets', () => {
  it('throws on a Secret even though toJSON already turned it into ***', () => {
    const value = { nested: [{ token: new Secret('SECRET-VALUE-123', 'test') }] };
    expect(() => JSON.stringify(value, refuseSecrets)).toThrow(
      /secret reached the JSON report \(at "token"\)/,
    );
    expect(JSON.stringify({ a: [1, 'x', null] }, refuseSecrets)).toBe('{"a":[1,"x",null]}');
  });
});

describe('report JSON Schema', () => {
  it('is the one documented in docs/report-schema.md', () => {
    const doc = readFileSync(new URL('../../docs/report-schema.md', import.meta.url), 'utf8');
    const block = /```json schema\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(block, 'docs/report-schema.md has a ```json schema block').toBeDefined();
    expect(JSON.parse(block ?? '{}')).toEqual(reportJsonSchema());
  });

  it('is strict about unknown keys, so a new field must be documented', () => {
    const report = toJsonReport(sampleRun(), { diff: false });
    expect(() => jsonReportSchema.parse({ ...report, extra: 1 })).toThrow();
    const schema = reportJsonSchema();
    expect(schema.additionalProperties).toBe(false);
  });
});
