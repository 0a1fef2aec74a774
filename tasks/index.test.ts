import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../src/facts/types.js';
import type { HostSpec } from '../src/inventory/types.js';
import { REPORTED_TASK_NAMES, TASK_NAMES } from './index.js';
import type { Change } from '../src/plan/types.js';
import { Secret } from '../src/secret.js';
import {
  UNIT_RUNNING,
  applyChanges,
  converge,
  dir,
  file,
  freshFacts,
  planAll,
} from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';
import { TASKS } from './index.js';

const secret = (v: string) => new Secret(v, 'test');

const everything = makeHost({
  settings: {
    model: 'anthropic/claude-sonnet-4',
    toolsets: ['all'],
    compression: { enabled: true, threshold: 0.85 },
  },
  mcpServers: {
    fs: { command: 'npx', args: ['-y', 'fs'] },
    remote: { url: 'https://x/mcp', auth: 'oauth' },
  },
  environment: { HERMES_LOG_LEVEL: 'info' },
  secrets: { OPENROUTER_API_KEY: secret('sk-or-1') },
  environmentFiles: ['/run/secrets/hermes.env'],
  authFile: secret('{"t":1}'),
  documents: { 'SOUL.md': 'You are helpful.\n', 'USER.md': 'Ada' },
  extraArgs: ['--verbose', 'two words'],
  addToSystemPackages: true,
  healthCheck: { seconds: 2, command: 'hermes --version' },
});

function withEnvFile(host: HostSpec, facts: HostFacts): HostFacts {
  if (host.hermes.environmentFiles.length === 0) return facts;
  const f = new Map(facts.paths);
  f.set(
    '/run/secrets/hermes.env',
    file(secret('EXTRA=1\n'), { mode: 0o600, user: 'root', group: 'root' }),
  );
  return { ...facts, paths: f };
}

const summary = (changes: Change[]) =>
  changes.map((c) => {
    switch (c.kind) {
      case 'systemd':
        return c.action;
      case 'group-create':
      case 'user-create':
        return `${c.kind} ${c.name}`;
      case 'wait-healthy':
      case 'container-remove':
        return c.kind;
      case 'image-load':
        return `${c.kind} ${c.archive.id}`;
      default:
        return `${c.kind}${'path' in c ? ` ${c.path}` : ''}`;
    }
  });

describe('TASKS', () => {
  it('runs users, dirs, release, merge, secrets, docs, plugins, packages, service in that order', () => {
    // Written out: the order is the contract (service last, seeing what the others planned),
    // and `--tags` and the reports accept exactly these names.
    expect(TASK_NAMES).toEqual([
      'users',
      'dirs',
      'release',
      'merge',
      'secrets',
      'docs',
      'plugins',
      'packages',
      'service',
    ]);
    expect(TASKS.at(-1)?.name).toBe('service');
    expect(new Set(REPORTED_TASK_NAMES).size).toBe(REPORTED_TASK_NAMES.length);
  });

  it('plans everything on a brand-new host from the initial facts (check mode), without uids', () => {
    const facts = withEnvFile(everything, freshFacts(everything));
    const plans = planAll(everything, facts);
    expect(Object.fromEntries(plans.map((p) => [p.task, summary(p.changes)]))).toEqual({
      users: ['group-create hermes', 'user-create hermes'],
      dirs: [
        'dir /var/lib/hermes',
        'dir /var/lib/hermes/.hermes',
        'dir /var/lib/hermes/home',
        'dir /var/lib/hermes/workspace',
        'dir /var/lib/hermes/.hermes/cron',
        'dir /var/lib/hermes/.hermes/sessions',
        'dir /var/lib/hermes/.hermes/logs',
        'dir /var/lib/hermes/.hermes/memories',
        'dir /var/lib/hermes/.hermes/plugins',
      ],
      release: [],
      // Each of merge, secrets and docs ends with its record of what the fleet owns.
      merge: [
        'file /var/lib/hermes/.hermes/config.yaml',
        'file /var/lib/hermes/.hermes/.managed',
        'file /var/lib/hermes/.hermes/.fleet-owned-config.json',
      ],
      secrets: [
        'file /var/lib/hermes/.hermes/.env',
        'file /var/lib/hermes/.hermes/auth.json',
        'file /var/lib/hermes/.hermes/.fleet-owned-env.json',
      ],
      docs: [
        'file /var/lib/hermes/workspace/SOUL.md',
        'file /var/lib/hermes/workspace/USER.md',
        'file /var/lib/hermes/.hermes/.fleet-owned-documents.json',
      ],
      plugins: [],
      packages: [],
      service: [
        'symlink /usr/local/bin/hermes',
        'file /etc/profile.d/hermes-fleet.sh',
        'file /etc/systemd/system/hermes-agent.service',
        'daemon-reload',
        'enable',
        'start',
        'wait-healthy',
        'generation /var/lib/hermes-fleet/generations',
      ],
    });
    const owners = plans
      .flatMap((p) => p.changes)
      .flatMap((c) => ('attrs' in c ? [c.attrs.user] : []));
    expect(new Set(owners)).toEqual(new Set(['hermes', 'root']));
  });

  const hosts: Record<string, HostSpec> = {
    minimal: makeHost(),
    everything,
    configFile: makeHost({ configFile: { path: 'c.yaml', content: 'model: x\n' } }),
    elsewhere: makeHost({
      stateDir: '/srv/hermes/',
      workingDirectory: '/data/work',
      user: 'agent',
      group: 'agents',
    }),
  };

  for (const [name, host] of Object.entries(hosts)) {
    it(`changes nothing on a second run (${name})`, () => {
      const first = withEnvFile(host, freshFacts(host));
      const after = converge(host, first);
      expect(planAll(host, after).flatMap((p) => p.changes)).toEqual([]);
    });
  }

  it('converges a drifted live host and then is idempotent', () => {
    const host = everything;
    let facts = converge(host, withEnvFile(host, freshFacts(host)));
    const config = '/var/lib/hermes/.hermes/config.yaml';
    const drift = new Map(facts.paths);
    // hermes rewrote its config (0600, a key of its own), a person commented it, the gateway died.
    drift.set(
      config,
      file('# tuned by hand\nmodel: openai/gpt-4o\nstreaming: true\n', {
        mode: 0o600,
        user: 'hermes',
        group: 'hermes',
      }),
    );
    drift.set(
      '/var/lib/hermes/.hermes/logs',
      dir({ mode: 0o700, user: 'hermes', group: 'hermes' }),
    );
    facts = {
      ...facts,
      paths: drift,
      units: new Map([['hermes-agent.service', { ...UNIT_RUNNING }]]),
    };
    const plans = planAll(host, facts);
    expect(summary(plans.flatMap((p) => p.changes))).toEqual([
      'dir /var/lib/hermes/.hermes/logs',
      'restart-pending /run/hermes-fleet-restart-pending',
      `file ${config}`,
      'restart',
      'wait-healthy',
      'generation /var/lib/hermes-fleet/generations',
      'restart-pending /run/hermes-fleet-restart-pending',
    ]);
    const merged = plans.flatMap((p) => p.changes).find((c) => c.kind === 'file');
    expect(merged?.kind === 'file' && 'text' in merged.body && merged.body.text).toMatch(
      /^# tuned by hand\nmodel: anthropic\/claude-sonnet-4\nstreaming: true\ntoolsets:/,
    );
    const after = applyChanges(
      facts,
      plans.flatMap((p) => p.changes),
    );
    expect(planAll(host, after).flatMap((p) => p.changes)).toEqual([]);
  });
});
