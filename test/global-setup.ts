// vitest's globalSetup: runs once, before any test file is imported, so the packages that
// test/provision.sh installs are there when test files evaluate their skip conditions.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROVISION = join(dirname(fileURLToPath(import.meta.url)), 'provision.sh');

export default function setup(): void {
  const result = spawnSync('bash', [PROVISION], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(
      `bash test/provision.sh failed (${result.error?.message ?? `exit ${String(result.status)}`})`,
    );
  }
}
