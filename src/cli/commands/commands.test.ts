import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../errors.js';
import { fixtureDir } from '../../../test/unit/inventory/fixture.js';
import { showInventory } from './inventory.js';
import { printSchema } from './schema.js';
import { validate } from './validate.js';

const SECRETS = ['sk-env-VALUE-1', 'file-VALUE-2', 'command-VALUE-3', 'auth-VALUE-4'];

function secretFleet(): string {
  const dir = fixtureDir({
    'inv.yaml': `
all:
  vars:
    hermes:
      secrets:
        FROM_ENV: { env: HF_TEST_SECRET }
        FROM_FILE: { file: secrets/token }
        FROM_COMMAND: { command: "echo command-VALUE-3" }
      authFile: auth.json
  hosts:
    web[1:2]:
`,
    'secrets/token': 'file-VALUE-2\n',
    'auth.json': '{"token":"auth-VALUE-4"}\n',
  });
  return join(dir, 'inv.yaml');
}

async function capture(run: (write: (text: string) => void) => Promise<void>): Promise<string> {
  let out = '';
  await run((text) => {
    out += text;
  });
  return out;
}

async function failure(run: () => Promise<unknown>): Promise<string> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return (err as UserError).format();
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('validate', () => {
  it('accepts inventory/example.yaml and inventory/demo.yaml', async () => {
    vi.stubEnv('OPENROUTER_API_KEY', 'sk-or-example');
    const example = await capture((w) => validate({ inventory: ['inventory/example.yaml'] }, w));
    expect(example).toBe(
      'ok: 9 hosts (edge1, eu-01, eu-02, eu-03, eu-04, lab-a, lab-b, lab-c, lab-d)\n',
    );
    const demo = await capture((w) => validate({ inventory: ['inventory/demo.yaml'] }, w));
    expect(demo).toBe('ok: 3 hosts (host1, host2, host3)\n');
  });

  it('evaluates every secret and never prints one', async () => {
    vi.stubEnv('HF_TEST_SECRET', 'sk-env-VALUE-1');
    const out = await capture((w) => validate({ inventory: [secretFleet()] }, w));
    expect(out).toBe('ok: 2 hosts (web1, web2)\n');
    for (const secret of SECRETS) expect(out).not.toContain(secret);
  });

  it('fails when a secret cannot be resolved', async () => {
    const file = secretFleet();
    const text = await failure(() => validate({ inventory: [file] }, () => undefined));
    expect(text).toContain(`${file}:6:19: all.vars.hermes.secrets.FROM_ENV:`);
    expect(text).toContain('HF_TEST_SECRET is not set');
  });

  it('keeps a failing command’s stdout out of the message', async () => {
    const dir = fixtureDir({
      'inv.yaml':
        'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { command: "echo sk-stdout-VALUE; exit 1" }\n',
    });
    const text = await failure(() =>
      validate({ inventory: [join(dir, 'inv.yaml')] }, () => undefined),
    );
    expect(text).toContain('the secret command exited with status 1 (no stderr)');
    expect(text).not.toContain('sk-stdout-VALUE');
  });

  it('applies -e', async () => {
    const dir = fixtureDir({ 'inv.yaml': 'all:\n  hosts:\n    web1:\n' });
    const text = await failure(() =>
      validate(
        { inventory: [join(dir, 'inv.yaml')], extraVars: ['ssh.port=99999'] },
        () => undefined,
      ),
    );
    expect(text).toBe('-e: ssh.port: must be a port number from 1 to 65535');
  });
});

describe('inventory', () => {
  it('shows secrets by source in YAML and JSON, never by value, without evaluating them', async () => {
    // HF_TEST_SECRET is unset: showing the inventory must not need it.
    const file = secretFleet();
    const yaml = await capture((w) => showInventory({ inventory: [file] }, w));
    expect(yaml).toContain('FROM_ENV: "<secret: env HF_TEST_SECRET>"');
    expect(yaml).toContain('FROM_FILE: "<secret: file secrets/token>"');
    expect(yaml).toContain('FROM_COMMAND: "<secret: command echo command-VALUE-3>"');
    expect(yaml).toContain('authFile: "<secret: file auth.json>"');
    expect(yaml).toMatch(/^web1:\n {2}groups:\n {4}- all\n/);

    vi.stubEnv('HF_TEST_SECRET', 'sk-env-VALUE-1');
    const json = await capture((w) => showInventory({ inventory: [file], json: true }, w));
    const parsed = JSON.parse(json) as Record<string, { hermes: { secrets: object } }>;
    expect(Object.keys(parsed)).toEqual(['web1', 'web2']);
    expect(parsed.web2?.hermes.secrets).toEqual({
      FROM_ENV: '<secret: env HF_TEST_SECRET>',
      FROM_FILE: '<secret: file secrets/token>',
      FROM_COMMAND: '<secret: command echo command-VALUE-3>',
    });
    for (const secret of ['sk-env-VALUE-1', 'file-VALUE-2', 'auth-VALUE-4']) {
      expect(yaml).not.toContain(secret);
      expect(json).not.toContain(secret);
    }
  });

  it('selects hosts with --limit and --host', async () => {
    const file = secretFleet();
    const one = await capture((w) => showInventory({ inventory: [file], host: 'web2' }, w));
    expect(one).toMatch(/^web2:/);
    expect(one).not.toContain('web1:');
    const limited = await capture((w) =>
      showInventory({ inventory: [file], limit: 'web1', json: true }, w),
    );
    expect(Object.keys(JSON.parse(limited) as object)).toEqual(['web1']);
    const text = await failure(() =>
      showInventory({ inventory: [file], host: 'web3' }, () => undefined),
    );
    expect(text).toBe('--host web3: no such host');
  });
});

describe('schema', () => {
  it('prints a strict draft-07 JSON Schema', async () => {
    const out = await capture((w) => printSchema(w));
    const schema = JSON.parse(out) as {
      $schema: string;
      additionalProperties: boolean;
      required: string[];
      definitions: Record<string, { additionalProperties?: unknown; properties?: object }>;
    };
    expect(schema.$schema).toContain('draft-07');
    expect(schema.required).toEqual(['all']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.definitions.Hermes?.additionalProperties).toBe(false);
    expect(Object.keys(schema.definitions.Ssh?.properties ?? {})).toEqual([
      'host',
      'port',
      'user',
      'become',
      'identityFile',
      'knownHosts',
      'hostKeyPolicy',
      'jump',
      'connectTimeout',
      'passphraseEnv',
    ]);
  });
});
