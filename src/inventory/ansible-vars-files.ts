import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar } from 'yaml';
import { UserError } from '../errors.js';
import type { VarMap } from './ansible-data.js';
import { locatorFor, parseAnsibleYaml, plainValue, whereIs } from './ansible-yaml.js';
import { describeFsError } from './yaml-source.js';

/** Ansible's YAML_FILENAME_EXTENSIONS; a name is tried bare first, then with each. */
const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

/**
 * group_vars/ and host_vars/ beside one inventory source, found and read as Ansible's
 * host_group_vars plugin and DataLoader.find_vars_files do: for a name, the FIRST of `NAME`,
 * `NAME.yml`, `NAME.yaml`, `NAME.json` that exists is used; when it is a directory, every file
 * in it (recursively, sorted by name, hidden files and `~` backups skipped, only files without
 * an extension or with one of those three) is read in that order, later files replacing earlier
 * ones' variables. Directory listings and parsed files are cached, so 10,000 hosts cost one
 * listing of host_vars/, not 40,000 stat calls.
 */
export class VarsFiles {
  private readonly listings = new Map<string, Set<string> | null>();
  private readonly parsed = new Map<string, VarMap>();

  /** The variables for `name` (a group or a host) in `<basedir>/<subdir>/`, merged in order. */
  varsFor(basedir: string, subdir: 'group_vars' | 'host_vars', name: string): VarMap | undefined {
    // Ansible skips names that look like absolute paths (chroot-style host names).
    if (name.startsWith('/')) return undefined;
    const dir = `${basedir}${path.sep}${subdir}`;
    const entries = this.listing(dir);
    if (!entries) return undefined;
    for (const ext of EXTENSIONS) {
      const candidate = name + ext;
      // A name with a "/" (a sub-path) is looked up on disk, as Ansible's join would.
      if (!candidate.includes('/') && !entries.has(candidate)) continue;
      const full = path.join(dir, candidate);
      let stat;
      try {
        stat = statSync(full);
      } catch {
        continue;
      }
      const files = stat.isDirectory() ? this.dirFiles(full) : [full];
      let out: VarMap | undefined;
      for (const file of files) {
        const vars = this.read(file);
        if (vars.size === 0) continue;
        out = out ? new Map([...out, ...vars]) : vars;
      }
      return out;
    }
    return undefined;
  }

  private listing(dir: string): Set<string> | null {
    let entries = this.listings.get(dir);
    if (entries !== undefined) return entries;
    try {
      entries = statSync(dir).isDirectory() ? new Set(readdirSync(dir)) : null;
    } catch {
      entries = null;
    }
    this.listings.set(dir, entries);
    return entries;
  }

  private dirFiles(dir: string): string[] {
    const out: string[] = [];
    for (const name of readdirSync(dir).sort(byCodePoint)) {
      if (name.startsWith('.') || name.endsWith('~')) continue;
      const full = path.join(dir, name);
      const ext = path.extname(name);
      const stat = statSync(full);
      if (stat.isDirectory() && ext === '') out.push(...this.dirFiles(full));
      else if (stat.isFile() && EXTENSIONS.includes(ext)) out.push(full);
    }
    return out;
  }

  private read(file: string): VarMap {
    const cached = this.parsed.get(file);
    if (cached) return cached;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read the file: ${describeFsError(err)}`, { file });
    }
    const source = parseAnsibleYaml(text, file);
    const root = source.doc.contents;
    const vars: VarMap = new Map();
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
      // An empty file sets nothing, as in Ansible.
    } else if (!isMap(root)) {
      throw new UserError(
        'a vars file must hold a map of variables (name: value)',
        whereIs(source, root),
      );
    } else {
      for (const pair of root.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const where = whereIs(source, pair.key, key);
        vars.set(key, {
          value: plainValue(source, pair.value),
          where,
          locate: locatorFor(source, pair.value, where),
        });
      }
    }
    this.parsed.set(file, vars);
    return vars;
  }
}

/** Python's sorted() on str: by code point, not by locale. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
