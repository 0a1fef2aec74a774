import { createHash } from 'node:crypto';
import { ArchiveProblem, bytesOnce, runTar, sha256OfFile } from './archive-file.js';
import type { ImageArchive } from './types.js';

/**
 * A container image archive (`docker save` / `podman save`) read on the control machine: which
 * image it holds, by the id the runtimes give it. That id is the sha256 of the image's config
 * blob, so it is computed here from the blob's bytes, not taken from a name in the archive.
 *
 * - docker-archive (what both runtimes save by default): `manifest.json` is a list of images,
 *   each with `Config`, the member that holds its config blob.
 * - OCI layout (`podman save --format oci-archive`): `index.json` names a manifest by digest,
 *   `blobs/sha256/<hex>`, whose `config.digest` names the config blob.
 *
 * An archive must hold exactly one image: the container runs that one.
 */

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** A member's name as tar lists it, without leading `./` (how it is asked for again). */
function normalName(name: string): string {
  return name.replace(/^(?:\.\/)+/, '');
}

/** Reads members of a plain tar, by normalized name; the listing is read once. */
class TarMembers {
  readonly #names = new Map<string, string>();

  private constructor(private readonly file: string) {}

  static async list(file: string): Promise<TarMembers> {
    const members = new TarMembers(file);
    const listing = (await runTar(['--list', '--file', file])).toString('utf8');
    for (const name of listing.split('\n')) {
      if (name !== '') members.#names.set(normalName(name), name);
    }
    return members;
  }

  has(name: string): boolean {
    return this.#names.has(normalName(name));
  }

  async read(name: string, what: string): Promise<Buffer> {
    const member = this.#names.get(normalName(name));
    if (member === undefined) throw new ArchiveProblem(`${what} ${name} is not in it`);
    return runTar(['--extract', '--to-stdout', '--file', this.file, '--', member]);
  }

  async json(name: string, what: string): Promise<unknown> {
    return parseJson(await this.read(name, what), `${what} ${name}`);
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new ArchiveProblem(`its ${what} is not JSON`);
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function oneImage(list: unknown, what: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new ArchiveProblem(`its ${what} lists no images`);
  if (list.length !== 1) {
    throw new ArchiveProblem(
      `its ${what} lists ${list.length} images; save exactly one (docker save IMAGE -o FILE.tar)`,
    );
  }
  const entry = record(list[0]);
  if (!entry) throw new ArchiveProblem(`its ${what} is not a list of images`);
  return entry;
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** docker-archive: the config blob named by the one entry of manifest.json. */
async function dockerArchiveConfig(members: TarMembers): Promise<Buffer> {
  const entry = oneImage(await members.json('manifest.json', 'manifest'), 'manifest.json');
  const config = entry.Config;
  if (typeof config !== 'string' || config === '') {
    throw new ArchiveProblem('its manifest.json names no Config');
  }
  return members.read(config, 'the config blob');
}

/** A blob of an OCI layout, checked against the digest that names it. */
async function ociBlob(members: TarMembers, digest: unknown, what: string): Promise<Buffer> {
  const hex = typeof digest === 'string' ? DIGEST.exec(digest)?.[1] : undefined;
  if (!hex) throw new ArchiveProblem(`its ${what} has no sha256 digest`);
  const bytes = await members.read(`blobs/sha256/${hex}`, what);
  if (sha256Hex(bytes) !== hex) {
    throw new ArchiveProblem(`its ${what} blobs/sha256/${hex} does not match its digest`);
  }
  return bytes;
}

/** OCI layout: index.json → the one manifest → its config blob. */
async function ociConfig(members: TarMembers): Promise<Buffer> {
  const index = record(await members.json('index.json', 'index'));
  const manifestRef = oneImage(index?.manifests, 'index.json');
  const manifest = record(
    parseJson(await ociBlob(members, manifestRef.digest, 'manifest'), 'manifest'),
  );
  return ociBlob(members, record(manifest?.config)?.digest, 'config blob');
}

/** The image id (`sha256:<hex>`) of the one image in a plain tar image archive. */
export async function imageIdOf(file: string): Promise<string> {
  const members = await TarMembers.list(file);
  let config: Buffer;
  if (members.has('manifest.json')) config = await dockerArchiveConfig(members);
  else if (members.has('index.json')) config = await ociConfig(members);
  else {
    throw new ArchiveProblem(
      'it is not an image archive: it has neither manifest.json (docker save, podman save) nor index.json (an OCI layout)',
    );
  }
  return `sha256:${sha256Hex(config)}`;
}

/** An image id as the runtimes list it: 12 hex digits, no `sha256:`. */
export function shortImageId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** The endings an image archive may have: what `docker save -o` writes, uncompressed. */
export const IMAGE_ARCHIVE = /\.tar$/;

/**
 * Inspects an image archive on the control machine, once at load time: its sha256 (hashed as
 * a stream, what the host checks the upload against), its size, the image id inside. The
 * bytes are read later, once per run, by `bytes()`. Rejects with ArchiveProblem (or the file
 * system's error) when it cannot be used.
 */
export async function inspectImageArchive(file: string, written: string): Promise<ImageArchive> {
  const { sha256, size } = await sha256OfFile(file);
  const id = await imageIdOf(file);
  return {
    path: file,
    written,
    sha256,
    size,
    id,
    bytes: bytesOnce(file, written, sha256, 'the image archive'),
  };
}
