import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { UserError } from '../errors.js';
import type { AnsibleInventoryData } from './ansible-data.js';

interface ScriptRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

function runScript(file: string, args: readonly string[]): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    // No shell: the path and its arguments are argv words, never a command line.
    const child = spawn(path.resolve(file), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      reject(new UserError(`cannot run the inventory script: ${error.message}`, { file }));
    });
    child.on('close', (code, signal) => {
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
      });
    });
  });
}

function failure(
  file: string,
  args: readonly string[],
  run: ScriptRun,
  problem: string,
): UserError {
  const status = run.signal ? `killed by ${run.signal}` : `exit code ${run.code ?? '?'}`;
  const stderr = run.stderr.trim();
  return new UserError(
    `the inventory script (${[file, ...args].join(' ')}) ${problem} (${status})${
      stderr === '' ? ', with nothing on stderr' : `; its stderr:\n${indent(stderr)}`
    }`,
    { file },
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

async function runJson(file: string, args: readonly string[]): Promise<unknown> {
  const run = await runScript(file, args);
  if (run.code !== 0) throw failure(file, args, run, 'failed');
  try {
    return JSON.parse(run.stdout) as unknown;
  } catch (err) {
    throw failure(file, args, run, `printed something that is not JSON: ${(err as Error).message}`);
  }
}

/**
 * An executable inventory (Ansible's script plugin, plugins/inventory/script.py): run with
 * `--list`, its JSON read as groups; host variables from `_meta.hostvars`, or, when the script
 * prints no `_meta.hostvars` at all, from one `--host NAME` run per host (the old protocol). A
 * script that exits non-zero or prints something other than a JSON object is an error showing
 * its exit code and its stderr.
 */
export async function readInventoryScript(file: string, data: AnsibleInventoryData): Promise<void> {
  const listed = await runJson(file, ['--list']);
  if (!isObject(listed)) {
    throw new UserError('the inventory script must print a JSON object for --list', { file });
  }
  const hosts = readListJson(listed, file, data);
  if (hosts.meta !== undefined) return;
  // A few `--host` runs at a time: a 500-host inventory must not start 500 processes at once.
  const vars: { name: string; vars: unknown }[] = [];
  const queue = [...hosts.names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      vars.push({ name, vars: await runJson(file, ['--host', name]) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
  // In the order the script listed the hosts, whatever order the runs finished in.
  vars.sort((a, b) => hosts.names.indexOf(a.name) - hosts.names.indexOf(b.name));
  for (const { name, vars: hostVars } of vars) {
    if (!isObject(hostVars)) {
      throw new UserError(`the inventory script must print a JSON object for --host ${name}`, {
        file,
      });
    }
    for (const [key, value] of Object.entries(hostVars)) {
      data.setHostVar(name, key, value, { file, keyPath: `--host ${name}: ${key}` });
    }
  }
}

/**
 * The `--list` JSON (a script's, or `ansible-inventory --list`'s saved to a file): group name →
 * a list of hosts, or `{ hosts: [...], vars: {...}, children: [...] }`; `_meta.hostvars` holds
 * each host's variables. Returns the hosts named and the `_meta.hostvars` when given.
 */
export function readListJson(
  listed: Record<string, unknown>,
  file: string,
  data: AnsibleInventoryData,
): { names: string[]; meta: Record<string, unknown> | undefined } {
  const names = new Set<string>();
  let meta: Record<string, unknown> | undefined;
  for (const [group, raw] of Object.entries(listed)) {
    const where = { file, keyPath: group };
    if (group === '_meta') {
      if (isObject(raw) && 'hostvars' in raw) {
        if (!isObject(raw.hostvars)) {
          throw new UserError('_meta.hostvars must be an object', { file, keyPath: '_meta' });
        }
        meta = raw.hostvars;
      }
      continue;
    }
    data.addGroup(group, where);
    const entry: Record<string, unknown> = isObject(raw) ? raw : { hosts: raw };
    if ('hosts' in entry) {
      if (!Array.isArray(entry.hosts)) {
        throw new UserError(`the group "${group}" has bad data for its host list`, where, 'a list');
      }
      for (const host of entry.hosts) {
        if (typeof host !== 'string') {
          throw new UserError(`the group "${group}" lists a host that is not a string`, where);
        }
        names.add(host);
        data.addHost(host, group, where);
      }
    }
    if ('vars' in entry) {
      if (!isObject(entry.vars)) {
        throw new UserError(`the group "${group}" has bad data for its variables`, where);
      }
      for (const [key, value] of Object.entries(entry.vars)) {
        data.setGroupVar(group, key, value, { file, keyPath: `${group}.vars.${key}` });
      }
    }
    if ('children' in entry) {
      const children = entry.children;
      if (!Array.isArray(children) || children.some((child) => typeof child !== 'string')) {
        throw new UserError(`the children of "${group}" must be a list of group names`, where);
      }
      for (const child of children as string[]) data.addChild(group, child, where);
    }
  }
  if (meta !== undefined) {
    for (const name of names) {
      const hostVars = meta[name] ?? {};
      if (!isObject(hostVars)) {
        throw new UserError(`_meta.hostvars.${name} must be an object`, { file, keyPath: '_meta' });
      }
      for (const [key, value] of Object.entries(hostVars)) {
        data.setHostVar(name, key, value, { file, keyPath: `_meta.hostvars.${name}.${key}` });
      }
    }
  }
  return { names: [...names], meta };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
