import { partsBytes } from '../../test/utils/stdin.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { serveReleases } from '../../test/utils/release-server.js';
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

describe('hermes.release.url at load time', () => {
  const SHA = 'ab'.repeat(32);
  const inventory = (release: string) =>
    `all:\n  vars:\n    hermes:\n      release: ${release}\n  hosts:\n    web1:\n`;

  it('reads nothing: the id is the sha256 given, the format the ending, the URL shown bare', async () => {
    const dir = fixtureDir({
      'inv.yaml': inventory(
        `{ url: 'https://u:p@releases.example/hermes/hermes-agent-1.2.tar.xz?token=s3', sha256: ${SHA} }`,
      ),
    });
    const h = (await load(dir)).hosts[0]?.hermes;
    expect(h?.release?.archive).toEqual({
      url: 'https://u:p@releases.example/hermes/hermes-agent-1.2.tar.xz?token=s3',
      written: 'https://releases.example/hermes/hermes-agent-1.2.tar.xz?…',
      sha256: SHA,
      id: 'ab'.repeat(8),
      format: 'xz',
    });
    expect(h?.package).toBe(`/opt/hermes-agent/releases/${'ab'.repeat(8)}`);
  });

  it.each([
    [`{ url: 'https://x.example/r.tar.gz' }`, 'url needs sha256', 'url'],
    [
      `{ archive: dist/r.tar.gz, url: 'https://x.example/r.tar.gz', sha256: ${SHA} }`,
      'cannot both be set',
      'url',
    ],
    [`{ archive: dist/r.tar.gz, sha256: ${SHA} }`, 'sha256 goes with url', 'sha256'],
    [`{ keep: 1 }`, '"archive" or "url" is required', undefined],
    [
      `{ url: 'ftp://x.example/r.tar.gz', sha256: ${SHA} }`,
      'must be an http:// or https:// URL',
      'url',
    ],
    [
      `{ url: 'https://x.example/r.zip', sha256: ${SHA} }`,
      'must be an http:// or https:// URL',
      'url',
    ],
    [`{ url: 'https://x.example/r.tar.gz', sha256: ABC }`, '64 lowercase hex digits', 'sha256'],
  ])('refuses %s', async (release, message, key) => {
    const error = await refusal(withArchive(inventory(release)));
    expect(error.message).toContain(message);
    if (key) expect(error.location?.keyPath).toBe(`all.vars.hermes.release.${key}`);
  });

  it('--release-from-controller downloads it once, checks it and uploads it as an archive', async () => {
    const dir = withArchive('');
    const bytes = readFileSync(join(dir, 'dist/r.tar.gz'));
    const sha = createHash('sha256').update(bytes).digest('hex');
    const server = await serveReleases({
      '/r.tar.gz': { bytes },
      '/cut.tar.gz': { bytes, cut: true },
    });
    try {
      const file = (url: string, sha256 = sha) => {
        writeFileSync(
          join(dir, 'inv.yaml'),
          `all:\n  vars:\n    hermes:\n      release: { url: '${url}', sha256: ${sha256} }\n  hosts:\n    web1:\n    web2:\n`,
        );
        return loadInventory([join(dir, 'inv.yaml')], {
          env: {},
          cwd: dir,
          releaseFromController: true,
        });
      };
      const inv = await file(server.url('/r.tar.gz'));
      const archive = inv.hosts[0]?.hermes.release?.archive;
      expect(archive).toMatchObject({
        sha256: sha,
        id: sha.slice(0, 16),
        format: 'gzip',
        strip: 2,
      });
      const sent = archive && 'bytes' in archive ? await archive.bytes() : undefined;
      expect(sent && partsBytes([sent])).toEqual(bytes);
      expect(inv.hosts[1]?.hermes.release?.archive).toBe(archive);
      expect(server.requests('/r.tar.gz')).toBe(1);
      await expect(file(server.url('/r.tar.gz'), 'cd'.repeat(32))).rejects.toThrow(
        /has sha256 [0-9a-f]{64}, not the sha256 given/,
      );
      await expect(file(server.url('/missing.tar.gz'))).rejects.toThrow(/HTTP 404/);
      await expect(file(server.url('/cut.tar.gz'))).rejects.toThrow(/stopped early|sha256/);
    } finally {
      await server.close();
    }
  });
});
