import { parse } from 'yaml';
import { UserError } from '../errors.js';
import { checkSchema, yamlLocator } from './check-schema.js';
import type { Layer } from './layer.js';
import { layerFromValue, layerFromYaml } from './layer.js';
import { formatKeyPath, readYamlFile } from './yaml-source.js';
import { hostVarsSchema } from './schema.js';

/**
 * `-e key.path=value` (the value read as YAML: `3`, `true`, `[a, b]`, `{x: 1}`) or
 * `-e @file.yaml` (a map with `ssh`/`hermes`), each checked by the same schema as the inventory.
 * Relative `file:` references in a `key=value` resolve against the current directory.
 */
export async function parseExtraVars(args: readonly string[], cwd: string): Promise<Layer[]> {
  const layers: Layer[] = [];
  for (const [index, arg] of args.entries()) {
    if (arg.startsWith('@')) {
      const source = await readYamlFile(arg.slice(1));
      const data: unknown = source.doc.toJS();
      if (data === null || data === undefined) continue;
      checkSchema(hostVarsSchema, data, yamlLocator(source));
      layers.push(layerFromYaml(source, []));
      continue;
    }
    layers.push(parseAssignment(arg, index + 1, cwd));
  }
  return layers;
}

function parseAssignment(arg: string, position: number, cwd: string): Layer {
  const eq = arg.indexOf('=');
  // The argument is not echoed: it might be a secret typed in the wrong place.
  if (eq <= 0) {
    throw new UserError(
      `-e argument ${position} is neither key.path=value nor @file.yaml`,
      undefined,
      'e.g. -e hermes.settings.model=anthropic/claude-sonnet-4 or -e @overrides.yaml',
    );
  }
  const segments = parseKeyPath(arg.slice(0, eq), position);
  const keyPath = formatKeyPath(segments);
  let value: unknown;
  try {
    value = parse(arg.slice(eq + 1));
  } catch {
    throw new UserError('the value is not valid YAML', { file: '-e', keyPath });
  }
  let data: unknown = value;
  for (const segment of [...segments].reverse()) data = { [segment]: data };
  checkSchema(hostVarsSchema, data, (path) => ({ file: '-e', keyPath: formatKeyPath(path) }));
  return layerFromValue(data, { file: '-e', dir: cwd });
}

/**
 * `hermes.settings.a.b` → segments; `"…"` quotes a segment holding dots, and everything after
 * `hermes.documents.` (or `instances.NAME.documents.`) is one document name (`hermes.documents.SOUL.md=…`).
 */
export function parseKeyPath(text: string, position = 1): string[] {
  const segments: string[] = [];
  let rest = text;
  while (rest !== '') {
    if (
      (segments.length === 2 && segments[0] === 'hermes' && segments[1] === 'documents') ||
      (segments.length === 3 && segments[0] === 'instances' && segments[2] === 'documents')
    ) {
      segments.push(rest.startsWith('"') && rest.endsWith('"') ? rest.slice(1, -1) : rest);
      break;
    }
    let segment: string;
    if (rest.startsWith('"')) {
      const close = rest.indexOf('"', 1);
      if (close === -1) throw badPath(position);
      segment = rest.slice(1, close);
      rest = rest.slice(close + 1);
      if (rest !== '' && !rest.startsWith('.')) throw badPath(position);
    } else {
      const dot = rest.indexOf('.');
      segment = dot === -1 ? rest : rest.slice(0, dot);
      rest = dot === -1 ? '' : rest.slice(dot);
    }
    if (segment === '') throw badPath(position);
    segments.push(segment);
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      if (rest === '') throw badPath(position);
    }
  }
  if (segments.length === 0) throw badPath(position);
  return segments;
}

function badPath(position: number): UserError {
  return new UserError(
    `-e argument ${position}: the key path is malformed`,
    undefined,
    'write it as dotted keys, e.g. hermes.settings.model; quote a key holding dots: hermes.settings."a.b"',
  );
}
