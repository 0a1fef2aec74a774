import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { UserError } from '../errors.js';
import { loadInventory } from './load.js';
import { showHost } from './render.js';

/** An inventory directory holding a real release archive at dist/r.tar.gz. */
function withArchive(inventory: string): string {
  const dir = fixtureDir({ 'inv.yaml': inventory, 'tree/hermes-agent/bin/hermes': '#!/bin/sh\n' });
  chmodSync(join(dir, 'tree/hermes-agent/bin/hermes'), 0o755);
  mkdirSync(join(dir, 'dist'));
  execFileSync('tar', ['--gzip', '-cf', join(dir, 'dist/r.tar.gz'), '-C', join(dir, 'tree'), '.']);
  return dir;
}

function load(dir: string) {
  return loadInventory([join(dir, 'inv.yaml')], { extraVars: [], env: {}, cwd: dir });
}

async function refusal(dir: string): Promise<UserError> {
  const error: unknown = await load(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof UserError)) throw new Error(`expected a UserError, got ${String(error)}`);
  return error;
}

describe('hermes.release at load time', () => {
  it('derives package from the archive, relative to the file that names it', async () => {
    const dir = withArchive(
      'all:\n  vars:\n    hermes:\n      release: { archive: dist/r.tar.gz, keep: 1 }\n  hosts:\n    web1:\n',
    );
    const inv = await load(dir);
    const h = inv.hosts[0]?.hermes;
    expect(h?.release).toMatchObject({ root: '/opt/hermes-agent', keep: 1 });
    expect(h?.release?.archive).toMatchObject({ format: 'gzip', strip: 2 });
    expect(h?.package).toBe(`/opt/hermes-agent/releases/${h?.release?.archive.id ?? ''}`);
    // `hermes-fleet inventory` prints it as data.
    const shown = stringify(inv.hosts[0] ? showHost(inv.hosts[0]) : {});
    expect(shown).toContain('written: dist/r.tar.gz');
  });

  it('refuses package together with release, naming the key', async () => {
    const dir = withArchive(
      'all:\n  vars:\n    hermes:\n      package: /opt/x\n  hosts:\n    web1:\n      hermes:\n        release: { archive: dist/r.tar.gz }\n',
    );
    const error = await refusal(dir);
    expect(error.message).toContain('package and release cannot both be set');
    expect(error.location?.keyPath).toBe('all.vars.hermes.package');
  });

  it('refuses a release root inside stateDir', async () => {
    const dir = withArchive(
      'all:\n  vars:\n    hermes:\n      release: { archive: dist/r.tar.gz, root: /var/lib/hermes/releases }\n  hosts:\n    web1:\n',
    );
    const error = await refusal(dir);
    expect(error.message).toMatch(/overlap/);
    expect(error.location?.keyPath).toBe('all.vars.hermes.release.root');
  });

  it("refuses a stateDir that holds or lies in hermes-fleet's own state (root's lock, generations)", async () => {
    for (const stateDir of ['/var/lib', '/var/lib/hermes-fleet/x']) {
      const dir = withArchive(
        `all:\n  hosts:\n    web1:\n      hermes:\n        stateDir: ${stateDir}\n`,
      );
      const error = await refusal(dir);
      expect(error.message).toMatch(/and \/var\/lib\/hermes-fleet overlap/);
      expect(error.location?.keyPath).toBe('all.hosts.web1.hermes.stateDir');
    }
  });

  it('refuses a missing archive, naming the file and the key', async () => {
    const dir = withArchive(
      'all:\n  vars:\n    hermes:\n      release: { archive: dist/missing.tar.xz }\n  hosts:\n    web1:\n',
    );
    const error = await refusal(dir);
    expect(error.message).toContain('dist/missing.tar.xz');
    expect(error.location?.keyPath).toBe('all.vars.hermes.release.archive');
  });

  it('refuses an ending that is not an archive in the schema', async () => {
    const dir = withArchive(
      'all:\n  vars:\n    hermes:\n      release: { archive: dist/r.zip }\n  hosts:\n    web1:\n',
    );
    const error = await refusal(dir);
    expect(error.message).toContain('.tar.zst');
  });
});
