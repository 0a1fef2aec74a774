// Release archives as a person would pack them, for the end-to-end tests on real hosts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STANDIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'fleet', 'stand-in-hermes.py');
const work = mkdtempSync(join(tmpdir(), 'hermes-fleet-releases-'));

export interface BuiltRelease {
  file: string;
  /** The release id: 16 hex digits of the archive's sha256. */
  id: string;
  bytes: number;
}

export interface ReleaseOptions {
  /** tar's compression option (`--gzip`, `--xz`, `--zstd`), none for a plain tar. */
  flag?: string;
  /** The archive's ending: `.tar.gz` by default. */
  ending?: string;
  /** Incompressible bytes added, for a long upload. */
  padding?: number;
  /** Its gateway exits 1 at start-up. */
  broken?: boolean;
}

/**
 * A tree under one top-level directory with bin/hermes (a wrapper that says its version and runs
 * the stand-in gateway from the release's own lib/, so the gateway's record names the release),
 * packed by the machine's tar.
 */
export function buildRelease(version: string, options: ReleaseOptions = {}): BuiltRelease {
  const { flag = '--gzip', ending = '.tar.gz', padding = 0, broken = false } = options;
  const dir = mkdtempSync(join(work, 'tree-'));
  const top = join(dir, `hermes-agent-${version}`);
  mkdirSync(join(top, 'bin'), { recursive: true });
  mkdirSync(join(top, 'lib'));
  copyFileSync(STANDIN, join(top, 'lib', 'stand-in-hermes.py'));
  writeFileSync(
    join(top, 'bin', 'hermes'),
    [
      '#!/bin/sh',
      `if [ "$1" = --version ]; then echo "hermes-agent ${version}"; exit 0; fi`,
      ...(broken ? [`echo "release ${version} is broken" >&2`, 'exit 1'] : []),
      'exec /usr/bin/python3 "$(dirname "$0")/../lib/stand-in-hermes.py" "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(join(top, 'bin', 'hermes'), 0o755);
  if (padding > 0) writeFileSync(join(top, 'lib', 'padding.bin'), randomBytes(padding));
  const file = join(work, `hermes-agent-${version}${ending}`);
  execFileSync('tar', [...(flag ? [flag] : []), '-cf', file, '-C', dir, `hermes-agent-${version}`]);
  const content = readFileSync(file);
  return {
    file,
    id: createHash('sha256').update(content).digest('hex').slice(0, 16),
    bytes: content.length,
  };
}

/** Bytes no compressor shrinks, the same for the same length. */
function randomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let seed = createHash('sha256').update(String(n)).digest();
  for (let at = 0; at < n; at += seed.length) {
    seed.copy(out, at);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

/** A scratch directory beside the archives. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(work, prefix));
}
