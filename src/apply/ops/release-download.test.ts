import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReleases, type ReleaseServer } from '../../../test/utils/release-server.js';
import { localExecutor } from '../../exec/local-executor.js';
import { quote } from '../../exec/quote.js';
import { releaseDownload } from '../../inventory/release-download.js';
import type { ReleaseDownload } from '../../inventory/types.js';
import type { Change } from '../../plan/types.js';
import { applyOps } from '../apply.js';
import { planOps } from '../encode-ops.js';

// release-unpack from a `url`: apply.sh's own download (curl, else wget) from a real local HTTP
// server, checked and unpacked as an upload is. Runs as root (the release tree is root's).
const isRoot = process.getuid?.() === 0;
const hasBoth = existsSync('/usr/bin/curl') && existsSync('/usr/bin/wget');

/** A PATH like the machine's with every program of /usr/bin but those named. */
function pathWithout(...programs: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'release-download-bin-'));
  for (const name of readdirSync('/usr/bin')) {
    if (!programs.includes(name)) symlinkSync(join('/usr/bin', name), join(bin, name));
  }
  return `${bin}:/usr/sbin:/sbin`;
}

/** A release tree packed as .tar.gz, under one top-level directory or at the archive's top. */
function pack(top: boolean): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'release-download-'));
  const tree = top ? join(dir, 'src', 'hermes-agent-2.0') : join(dir, 'src');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  writeFileSync(join(tree, 'bin', 'hermes'), '#!/bin/sh\necho 2.0\n');
  chmodSync(join(tree, 'bin', 'hermes'), 0o755);
  const file = join(dir, 'r.tar.gz');
  execFileSync('tar', [
    '--gzip',
    '-cf',
    file,
    '-C',
    join(dir, 'src'),
    top ? 'hermes-agent-2.0' : '.',
  ]);
  return readFileSync(file);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(!isRoot || !hasBoth)(
  'release-unpack from a url (a real shell, curl and wget)',
  () => {
    let server: ReleaseServer;
    let nested: Buffer;
    let flat: Buffer;
    const noCurl = pathWithout('curl');
    const neither = pathWithout('curl', 'wget');

    beforeAll(async () => {
      nested = pack(true);
      flat = pack(false);
      server = await serveReleases({
        '/nested.tar.gz': { bytes: nested },
        '/flat.tar.gz': { bytes: flat },
        '/cut.tar.gz': { bytes: nested, cut: true },
      });
    });
    afterAll(() => server.close());

    const download = (path: string, bytes: Buffer): ReleaseDownload =>
      releaseDownload(`${server.url(path)}?token=kept-off-the-reports`, sha256(bytes));

    async function install(release: ReleaseDownload, path?: string) {
      const root = join(mkdtempSync(join(tmpdir(), 'release-download-root-')), 'opt');
      const changes: Change[] = [
        { kind: 'release-unpack', path: `${root}/releases/${release.id}`, archive: release },
        {
          kind: 'release-switch',
          path: `${root}/current`,
          target: `releases/${release.id}`,
          before: { kind: 'absent' },
          to: release.id,
        },
      ];
      const outcome = await applyOps(localExecutor, planOps([{ task: 'release', changes }]), {
        commandLine: (script) => `${path ? `PATH=${quote(path)} ` : ''}sh -c ${quote(script)}`,
        timeoutMs: 30_000,
        inSession: true,
      });
      return { outcome, root, releases: () => readdirSync(join(root, 'releases')) };
    }

    it.each([
      ['curl', undefined],
      ['wget', noCurl],
    ])('%s downloads it; the top directory is found on the host; root-owned', async (_, path) => {
      for (const [name, bytes] of [
        ['/nested.tar.gz', nested],
        ['/flat.tar.gz', flat],
      ] as const) {
        const release = download(name, bytes);
        const { outcome, root, releases } = await install(release, path);
        expect(outcome.failure).toBeUndefined();
        const bin = statSync(join(root, 'releases', release.id, 'bin', 'hermes'));
        expect([bin.uid, bin.mode & 0o7777]).toEqual([0, 0o755]);
        expect(readlinkSync(join(root, 'current'))).toBe(`releases/${release.id}`);
        expect(releases()).toEqual([release.id]);
      }
    });

    it.each([
      ['curl', undefined],
      ['wget', noCurl],
    ])('%s: a file whose sha256 differs never gets a name', async (_, path) => {
      const release = { ...download('/nested.tar.gz', nested), sha256: sha256(flat) };
      const { outcome, root, releases } = await install(release, path);
      expect(outcome.failure?.message).toMatch(/the file downloaded has sha256 [0-9a-f]{64}, not/);
      expect(releases()).toEqual([]);
      expect(() => lstatSync(join(root, 'current'))).toThrow();
    });

    it.each([
      ['curl', undefined, /curl: \(22\).*404/],
      ['wget', noCurl, /the download failed \(ERROR 404/],
    ])(
      '%s: a 404 fails the host with the downloader words, nothing installed',
      async (_, path, words) => {
        const { outcome, releases } = await install(download('/missing.tar.gz', nested), path);
        expect(outcome.failure?.message).toMatch(/the download failed/);
        expect(outcome.failure?.message).toMatch(words);
        // The query (a token, perhaps) is not in what the host says.
        expect(outcome.failure?.message).not.toContain('kept-off-the-reports');
        expect(releases()).toEqual([]);
      },
    );

    it.each([
      ['curl', undefined, /the download failed \(curl: \(18\)/],
      ['wget', noCurl, /the download failed \(a network failure\)/],
    ])('%s: a server that stops mid-file: nothing installed', async (_, path, words) => {
      const { outcome, releases } = await install(download('/cut.tar.gz', nested), path);
      expect(outcome.failure?.message).toMatch(words);
      expect(releases()).toEqual([]);
    });

    it('a host with neither curl nor wget fails naming the packages', async () => {
      const { outcome, releases } = await install(download('/nested.tar.gz', nested), neither);
      expect(outcome.failure?.message).toMatch(/neither curl nor wget: install the curl or wget/);
      expect(releases()).toEqual([]);
    });
  },
);
