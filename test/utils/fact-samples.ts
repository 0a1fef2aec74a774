import type { FactKind, RequestOf } from '../../src/facts/fact-kinds.js';

/**
 * One request of each fact kind, with every optional field set: a new kind fails to compile
 * here, and the tests that take these (what each kind sends, what read.sh knows) cover it.
 */
export const FACT_SAMPLES: { [K in FactKind]: RequestOf<K> } = {
  path: { kind: 'path', path: '/p', content: true, follow: true, as: 'a', tree: '/t' },
  'temp-files': { kind: 'temp-files', dir: '/d', as: 'a' },
  'dir-entries': { kind: 'dir-entries', dir: '/d' },
  user: { kind: 'user', name: 'u' },
  group: { kind: 'group', name: 'g' },
  unit: { kind: 'unit', name: 'x.service' },
  command: { kind: 'command', name: 'docker' },
  package: { kind: 'package', name: 'jq' },
  container: { kind: 'container', backend: 'docker', name: 'c' },
  image: { kind: 'image', backend: 'podman', image: 'i' },
  version: { kind: 'version', path: '/bin/x', user: 'u' },
  lock: { kind: 'lock', path: '/l', waitSeconds: 3 },
  generations: { kind: 'generations', dir: '/g' },
};
