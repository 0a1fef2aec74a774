import { UserError } from '../errors.js';
import { classifySource, collectAnsibleHosts } from './ansible-load.js';
import { checkSchema, yamlLocator } from './check-schema.js';
import type { Collected } from './collect.js';
import { collectHosts } from './collect.js';
import { parseExtraVars } from './extra-vars.js';
import { LocalReader } from './local-files.js';
import { resolveHost } from './resolve-host.js';
import { inventorySchema } from './schema.js';
import type { HostSpec, Inventory } from './types.js';
import { readYamlFile } from './yaml-source.js';

export interface LoadOptions {
  /**
   * `--release-from-controller`: a release given by `url` is downloaded by the controller and
   * uploaded, as an archive is, instead of each host downloading it.
   */
  releaseFromController?: boolean;
  /** `-e` arguments, in the order given (later wins). */
  extraVars?: readonly string[];
  /**
   * Evaluate secrets (env, file, command, authFile). When false, nothing is evaluated and every
   * Secret is a placeholder: its `source` is set (`env X`) and its value is empty. Commands that
   * only show where secrets come from (`inventory`) use this; anything that deploys must not.
   */
  resolveSecrets?: boolean;
  /** Environment secrets are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Base for relative paths in `-e` (and Ansible's key files); default process.cwd(). */
  cwd?: string;
  /**
   * Where warnings go (an Ansible variable hermes-fleet does not use, say); default: stderr,
   * as `warning: ...` lines, so every command shows them before any host is contacted.
   */
  warn?: (message: string) => void;
}

/**
 * Loads one or more inventory files (later files add hosts and groups and override earlier
 * ones), applies `-e`, and resolves every host. hermes-fleet's YAML and Ansible's inventories
 * (INI, YAML, directories, scripts, group_vars/host_vars: ansible-load.ts) each keep their own
 * precedence rules and meet as the same CollectedHost list. Every problem in the input is a UserError
 * naming file, line, column and key path.
 */
export async function loadInventory(
  files: readonly string[],
  options: LoadOptions = {},
): Promise<Inventory> {
  if (files.length === 0) {
    throw new UserError('no inventory given', undefined, 'pass one with -i FILE');
  }
  const formats = files.map((file) => classifySource(file));
  const cwd = options.cwd ?? process.cwd();
  let collected: Collected;
  let ansibleGroupHosts: ((group: string) => string[]) | undefined;
  if (formats.every((format) => format === 'hermes')) {
    const sources = await Promise.all(files.map((file) => readYamlFile(file)));
    for (const source of sources) {
      const data: unknown = source.doc.toJS();
      if (data === null || data === undefined) {
        throw new UserError(
          'the inventory is empty',
          { file: source.file },
          'start it with `all:`',
        );
      }
      checkSchema(inventorySchema, data, yamlLocator(source));
    }
    collected = collectHosts(sources, await parseExtraVars(options.extraVars ?? [], cwd));
  } else if (formats.every((format) => format === 'ansible')) {
    const extra = await parseExtraVars(options.extraVars ?? [], cwd);
    const ansible = await collectAnsibleHosts(files, extra, cwd);
    const warn =
      options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
    for (const warning of ansible.warnings) warn(warning);
    collected = ansible;
    ansibleGroupHosts = ansible.ansible.groupHosts;
  } else {
    const hermes = files.find((_, i) => formats[i] === 'hermes') ?? '';
    throw new UserError(
      'hermes-fleet YAML inventories and Ansible inventories cannot be mixed in one run',
      { file: hermes },
      'convert one side: `hermes-fleet inventory -i FILE --export-ansible` prints a hermes-fleet inventory in Ansible format',
    );
  }
  if (collected.hosts.length === 0) {
    throw new UserError(
      files.length === 1 ? 'the inventory has no hosts' : 'the inventories have no hosts',
      { file: files[0] ?? '', line: 1, column: 1, keyPath: 'all' },
      'add hosts under all.hosts or under a group in all.children',
    );
  }
  const reader = new LocalReader(
    options.env ?? process.env,
    options.resolveSecrets ?? true,
    options.releaseFromController ?? false,
  );
  const settled = await Promise.allSettled(
    collected.hosts.map((host) => resolveHost(host, reader)),
  );
  const hosts: HostSpec[] = [];
  // The first failing host in inventory order, so the same input always gives the same message.
  for (const result of settled) {
    if (result.status === 'rejected') throw result.reason;
    hosts.push(result.value);
  }
  return {
    hosts,
    groups: collected.groups,
    files: [...files],
    ...(ansibleGroupHosts ? { ansibleGroupHosts } : {}),
  };
}
