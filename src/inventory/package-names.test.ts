import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { loadInventory } from './load.js';

/** extraPackages as the loader takes them: Debian names, never one apt-get reads otherwise. */
async function packages(names: string[]): Promise<string> {
  const yaml = `all:\n  hosts:\n    web1:\n      hermes: { extraPackages: ${JSON.stringify(names)} }\n`;
  const dir = fixtureDir({ 'inv.yaml': yaml });
  return loadInventory([join(dir, 'inv.yaml')], { extraVars: [], env: {}, cwd: dir }).then(
    () => 'ok',
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
}

describe('extraPackages names', () => {
  it('takes Debian names, with + and . and an architecture', async () => {
    expect(await packages(['jq', 'g++', 'libstdc++6', 'python3.11-venv', 'jq:amd64'])).toBe('ok');
  });

  it('refuses a name apt-get would read as a removal or an option', async () => {
    for (const name of ['openssh-server-', 'jq:amd64-', '-y', '--allow-unauthenticated']) {
      expect(await packages([name]), name).toMatch(/must be a Debian package name/);
    }
  });
});
