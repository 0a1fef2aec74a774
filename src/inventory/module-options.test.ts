import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hermesSchema } from './schema.js';

/**
 * docs/inventory.md lists every option of the NixOS module and what it is here. The table must
 * stay true both ways: every `same` row is a key of the schema, every key of the schema is a
 * `same` row or one of the fleet's own keys listed under the table.
 */
const DOCS = readFileSync(path.join(import.meta.dirname, '../../docs/inventory.md'), 'utf8');

function moduleTable(): Map<string, string> {
  const start = DOCS.indexOf("### The NixOS module's options, one by one");
  const end = DOCS.indexOf('\n### ', start + 1);
  const rows = new Map<string, string>();
  for (const line of DOCS.slice(start, end).split('\n')) {
    const match = /^\| `([A-Za-z.]+)` \| ([^|]+?) \|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2]);
  }
  return rows;
}

function fleetOwnKeys(): string[] {
  const start = DOCS.indexOf("The fleet's own keys, which the module does not have:");
  const paragraph = DOCS.slice(start, DOCS.indexOf('\n\n', start));
  return [...paragraph.matchAll(/`([A-Za-z.]+)`/g)].flatMap((m) => (m[1] ? [m[1]] : []));
}

/** `package`, …, `container.enable`, …: the hermes keys, container's one level down. */
function schemaKeys(): string[] {
  const container = Object.keys(hermesSchema.shape.container.unwrap().shape);
  return Object.keys(hermesSchema.shape).flatMap((key) =>
    key === 'container' ? container.map((inner) => `container.${inner}`) : [key],
  );
}

// The module's options as its source declares them today (nix/nixosModules.nix).
const MODULE_OPTIONS = [
  'enable',
  'package',
  'user',
  'group',
  'createUser',
  'stateDir',
  'workingDirectory',
  'configFile',
  'settings',
  'environmentFiles',
  'environment',
  'authFile',
  'authFileForceOverwrite',
  'documents',
  'mcpServers',
  'extraArgs',
  'extraPackages',
  'extraPlugins',
  'extraPythonPackages',
  'extraDependencyGroups',
  'restart',
  'restartSec',
  'addToSystemPackages',
  'container.enable',
  'container.backend',
  'container.extraVolumes',
  'container.extraOptions',
  'container.image',
  'container.hostUsers',
];

describe("the NixOS module's options in docs/inventory.md", () => {
  it('lists every option of the module, each once, and nothing else', () => {
    expect([...moduleTable().keys()].sort()).toEqual([...MODULE_OPTIONS].sort());
  });

  it('says of each what it is: same, Nix-only (with its Debian counterpart), or not yet', () => {
    for (const [option, status] of moduleTable()) {
      expect(['same', 'Nix-only', 'not yet'], option).toContain(status);
    }
  });

  it('holds the schema: every `same` option is a key, every key is a `same` option or the fleet’s own', () => {
    const keys = schemaKeys();
    const same = [...moduleTable()].filter(([, status]) => status === 'same').map(([key]) => key);
    for (const option of same)
      expect(keys, `${option} is "same" but not in the schema`).toContain(option);
    const own = fleetOwnKeys();
    for (const key of keys) {
      expect([...same, ...own], `${key} is in the schema but not in the table`).toContain(key);
    }
    // And no option that is not "same" slipped into the schema under the module's name.
    for (const [option, status] of moduleTable()) {
      if (status !== 'same') expect(keys, option).not.toContain(option);
    }
  });
});
