import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveProblem } from './archive-file.js';
import { imageIdOf, inspectImageArchive, shortImageId } from './image-archive.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Writes `files` into a fresh directory and packs them with the machine's tar, in order. */
function pack(files: Record<string, string>, prefix = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'image-archive-'));
  const src = join(dir, 'src');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  const file = join(dir, 'image.tar');
  execFileSync('tar', ['-cf', file, '-C', src, ...Object.keys(files).map((n) => prefix + n)]);
  return file;
}

const CONFIG = '{"architecture":"amd64","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers"}}';
const CONFIG_ID = sha256(CONFIG);

/** As `docker save` / `podman save` write it: manifest.json, `<id>.json`, a layer. */
function dockerArchive(
  manifest: unknown = [
    { Config: `${CONFIG_ID}.json`, RepoTags: ['hermes:latest'], Layers: ['layer.tar'] },
  ],
): Record<string, string> {
  return {
    [`${CONFIG_ID}.json`]: CONFIG,
    'layer.tar': 'not really a layer',
    'manifest.json': JSON.stringify(manifest),
  };
}

/** As `podman save --format oci-archive` writes it: index.json → manifest → config, by digest. */
function ociLayout(): Record<string, string> {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${CONFIG_ID}`,
    },
    layers: [],
  });
  const manifestId = sha256(manifest);
  return {
    'oci-layout': '{"imageLayoutVersion":"1.0.0"}',
    [`blobs/sha256/${CONFIG_ID}`]: CONFIG,
    [`blobs/sha256/${manifestId}`]: manifest,
    'index.json': JSON.stringify({
      schemaVersion: 2,
      manifests: [{ digest: `sha256:${manifestId}`, size: manifest.length }],
    }),
  };
}

async function problem(file: string): Promise<string> {
  return imageIdOf(file).then(
    () => 'no problem',
    (err: unknown) => {
      expect(err).toBeInstanceOf(ArchiveProblem);
      return (err as Error).message;
    },
  );
}

describe('the image id of an archive', () => {
  it('is the sha256 of the config blob that manifest.json names (docker save)', async () => {
    expect(await imageIdOf(pack(dockerArchive()))).toBe(`sha256:${CONFIG_ID}`);
  });

  it('reads members listed with a leading ./', async () => {
    expect(await imageIdOf(pack(dockerArchive(), './'))).toBe(`sha256:${CONFIG_ID}`);
  });

  it('is computed from the blob, not taken from its name', async () => {
    const files = dockerArchive([{ Config: 'config.json', Layers: [] }]);
    files['config.json'] = CONFIG;
    expect(await imageIdOf(pack(files))).toBe(`sha256:${CONFIG_ID}`);
  });

  it('follows index.json to the manifest and its config (an OCI layout)', async () => {
    expect(await imageIdOf(pack(ociLayout()))).toBe(`sha256:${CONFIG_ID}`);
  });

  it('refuses an OCI blob whose bytes do not match its digest', async () => {
    const files = ociLayout();
    files[`blobs/sha256/${CONFIG_ID}`] = `${CONFIG} `;
    expect(await problem(pack(files))).toMatch(/config blob .* does not match its digest/);
  });

  it('refuses a tar that is no image archive, two images, a missing config, bad JSON', async () => {
    expect(await problem(pack({ 'bin/hermes': '#!/bin/sh\n' }))).toMatch(
      /neither manifest.json .* nor index.json/,
    );
    const entry = { Config: `${CONFIG_ID}.json`, Layers: [] };
    expect(await problem(pack(dockerArchive([entry, entry])))).toMatch(
      /lists 2 images; save exactly one/,
    );
    expect(await problem(pack(dockerArchive([{ Config: 'gone.json' }])))).toMatch(
      /the config blob gone.json is not in it/,
    );
    expect(await problem(pack(dockerArchive([{ Layers: [] }])))).toMatch(/names no Config/);
    expect(await problem(pack({ 'manifest.json': '[{' }))).toMatch(
      /manifest manifest.json is not JSON/,
    );
  });

  it('refuses a file tar cannot read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-archive-'));
    writeFileSync(join(dir, 'x.tar'), 'this is not a tar archive\n'.repeat(100));
    expect(await problem(join(dir, 'x.tar'))).toMatch(/tar cannot read it/);
  });
});

describe('inspectImageArchive', () => {
  it('gives the file sha256, size and image id, and reads the bytes once', async () => {
    const file = pack(dockerArchive());
    const archive = await inspectImageArchive(file, 'images/hermes.tar');
    const bytes = execFileSync('cat', [file]);
    expect(archive).toMatchObject({
      path: file,
      written: 'images/hermes.tar',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      id: `sha256:${CONFIG_ID}`,
    });
    // The file itself is what is sent (read as it goes), checked once per run.
    const first = await archive.bytes();
    expect(first).toEqual({ file, size: bytes.length });
    expect(await archive.bytes()).toBe(first);
  });

  it('rejects the bytes when the file changed since load time, naming it', async () => {
    const file = pack(dockerArchive());
    const archive = await inspectImageArchive(file, 'images/hermes.tar');
    appendFileSync(file, 'more');
    await expect(archive.bytes()).rejects.toThrow(
      /the image archive images\/hermes.tar changed during the run/,
    );
  });

  it('says an id by its first 12 hex digits', () => {
    expect(shortImageId(`sha256:${CONFIG_ID}`)).toBe(CONFIG_ID.slice(0, 12));
  });
});
