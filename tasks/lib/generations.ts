import type { FactRequest, HostFacts } from '../../src/facts/types.js';
import type { HermesSettings } from '../../src/inventory/types.js';
import type { Change, GenerationFile } from '../../src/plan/types.js';
import { pluginLink } from '../plugins.js';
import { releasePaths } from '../release.js';
import { pathFact } from './facts-access.js';
import {
  currentGenerationFile,
  documentPath,
  generationsDir,
  hermesPaths,
  unitFile,
} from './layout.js';

/** The number of the generation the host is on, read with the service task's facts. */
export function generationFacts(h: Pick<HermesSettings, 'instance'>): FactRequest[] {
  return [{ kind: 'path', path: currentGenerationFile(h), content: true }];
}

export function currentGeneration(
  h: Pick<HermesSettings, 'instance'>,
  facts: HostFacts,
): number | undefined {
  const fact = pathFact(facts, currentGenerationFile(h));
  const text = fact.kind === 'file' ? (fact.text ?? '').trim() : '';
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
}

/**
 * What a generation keeps: every file the gateway reads. The account's files are read by the
 * account (apply.sh streams their bytes to root); the secret ones are shown by name only.
 */
export function generationFiles(h: HermesSettings): GenerationFile[] {
  const p = hermesPaths(h);
  const account = { as: h.user };
  return [
    { name: 'unit', path: unitFile(h) },
    { name: 'config.yaml', path: p.configYaml, ...account },
    { name: '.env', path: p.envFile, ...account, secret: true },
    { name: 'auth.json', path: p.authJson, ...account, secret: true },
    ...Object.keys(h.documents)
      .sort()
      .map((name) => ({ name: `documents/${name}`, path: documentPath(h, name), ...account })),
    ...h.extraPlugins
      .map((plugin) => plugin.name)
      .sort()
      .map((name) => ({
        name: `plugins/${name}`,
        path: pluginLink(h, name),
        ...account,
        link: true,
      })),
  ];
}

/**
 * The change that records a generation after a healthy (re)start; with releases, the release
 * the `current` link names is recorded too.
 */
export function recordGeneration(h: HermesSettings): Change {
  return {
    kind: 'generation',
    path: generationsDir(h),
    keep: h.generations.keep,
    files: generationFiles(h),
    ...(h.release ? { releaseLink: releasePaths(h.release).current } : {}),
  };
}
