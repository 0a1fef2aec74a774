import { shortImageId } from '../inventory/image-archive.js';
import type { ImageArchive } from '../inventory/types.js';
import { formatMegabytes } from './attr-words.js';
import { basename, never, noDiff, noFields, type ChangeRecords } from './record.js';

/*
 * Container mode (src/apply/ops/container.sh): an image archive loaded into the runtime's store,
 * a container removed so that the unit recreates it from its new definition.
 */

type Backend = 'docker' | 'podman';

export type ContainerChange =
  /** Removes a container (`rm -f`) that must be recreated; fails only if it is still there. */
  | { kind: 'container-remove'; backend: Backend; name: string; reason: string }
  /**
   * A container image archive loaded into `backend`'s store: its bytes follow on stdin, land in
   * a root-only temporary directory, are checked (size, sha256), loaded, and the image id is
   * then asked of the runtime. Nothing to undo: an unused image is harmless.
   */
  | { kind: 'image-load'; backend: Backend; archive: ImageArchive };

const EXAMPLE: ImageArchive = {
  path: '/tmp/i.tar',
  written: 'images/i.tar',
  sha256: 'cd'.repeat(32),
  size: 3_000_000,
  id: `sha256:${'ef'.repeat(32)}`,
  bytes: () => Promise.resolve(Buffer.alloc(0)),
};

export const CONTAINER_CHANGES: ChangeRecords<ContainerChange> = {
  'container-remove': {
    doc: 'a container removed, to be recreated from its new definition',
    example: { kind: 'container-remove', backend: 'docker', name: 'c', reason: 'why' },
    undo: 'repeat',
    restarts: never,
    encode: (change) => ({ fields: { backend: change.backend, name: change.name } }),
    describe: (change) => `remove ${change.backend} container ${change.name} (${change.reason})`,
    json: noFields,
    diff: noDiff,
    drift: true,
  },
  'image-load': {
    doc: '`container.imageArchive` uploaded and loaded',
    example: { kind: 'image-load', backend: 'podman', archive: EXAMPLE },
    // An unused image is harmless; the container identity that names it is a path and goes back.
    undo: 'none',
    restarts: never,
    encode: ({ backend, archive }) => ({
      fields: {
        backend,
        image: archive.id,
        size: String(archive.size),
        sha256: archive.sha256,
      },
      upload: archive,
    }),
    describe: ({ archive }) =>
      `load image ${shortImageId(archive.id)} from ${basename(archive.written)} (${formatMegabytes(archive.size)})`,
    json: ({ archive }) => ({
      image: { id: archive.id, archive: archive.written, bytes: archive.size },
    }),
    diff: noDiff,
    drift: true,
  },
};
