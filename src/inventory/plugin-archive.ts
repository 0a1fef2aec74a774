import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArchiveProblem, runTar } from './archive-file.js';
import type { PluginSource } from './types.js';

/** What a plugin's name may be: it becomes a directory name on the host (`fleet-managed-<name>`). */
export const PLUGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** How an archive's file name ends: stripped to make the plugin's default name. */
const ARCHIVE_ENDING = /\.(tar|tar\.gz|tgz|tar\.xz|tar\.zst)$/;

/** `plugins/hermes-lcm` → `hermes-lcm`, `dist/lcm-0.7.tar.gz` → `lcm-0.7`. */
export function defaultPluginName(written: string): string {
  return path.basename(written.replace(/\/+$/, '')).replace(ARCHIVE_ENDING, '');
}

/**
 * The same bytes for the same tree, on every machine with GNU tar: names sorted, no times,
 * owners or modes beyond the executable bit (the host makes the tree root's, read-only to
 * others), so a plugin's id changes only when its content does.
 */
const STABLE_TAR = [
  '--sort=name',
  '--mtime=@0',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--mode=u+rwX,go+rX,go-w,a-s',
  '--format=gnu',
];

/** The one directory an archive was packed under, when it holds nothing else. */
async function pluginRoot(dir: string): Promise<string> {
  const names = await readdir(dir);
  if (names.length === 1 && names[0] !== undefined && !names.includes('plugin.yaml')) {
    const only = path.join(dir, names[0]);
    if ((await lstat(only)).isDirectory()) return only;
  }
  return dir;
}

async function checkPluginYaml(root: string): Promise<void> {
  const stat = await lstat(path.join(root, 'plugin.yaml')).catch(() => undefined);
  if (!stat?.isFile()) {
    throw new ArchiveProblem(
      'it holds no plugin.yaml at its top (a plugin is a directory with plugin.yaml and __init__.py)',
    );
  }
}

/**
 * A plugin (`extraPlugins`) made ready at load time: a local directory, or an archive of one (at
 * its top or under one top-level directory), checked to hold plugin.yaml and packed again as a
 * stable plain tar. The tar is what travels to the host (small: a plugin is source files), its
 * sha256 the plugin's id there.
 */
export async function packPlugin(
  file: string,
  written: string,
  name: string,
): Promise<PluginSource> {
  const stat = await lstat(file);
  let scratch: string | undefined;
  try {
    let root = file;
    if (!stat.isDirectory()) {
      if (!ARCHIVE_ENDING.test(file)) {
        throw new ArchiveProblem(
          'it is neither a directory nor a tar archive (.tar, .tar.gz, .tgz, .tar.xz, .tar.zst)',
        );
      }
      scratch = await mkdtemp(path.join(os.tmpdir(), 'hermes-fleet-plugin-'));
      await runTar([
        '-x',
        '--file',
        file,
        '--directory',
        scratch,
        '--no-same-owner',
        '--no-same-permissions',
      ]);
      root = await pluginRoot(scratch);
    }
    await checkPluginYaml(root);
    const tar = await runTar(['-c', ...STABLE_TAR, '--directory', root, '.']);
    const sha256 = createHash('sha256').update(tar).digest('hex');
    return {
      name,
      written,
      path: file,
      sha256,
      id: sha256.slice(0, 16),
      size: tar.length,
      format: 'tar',
      strip: 0,
      bytes: () => Promise.resolve(tar),
    };
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
}
