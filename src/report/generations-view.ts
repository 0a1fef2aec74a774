import { changedFiles, type HostGenerations } from '../facts/generations.js';

/** One host's answer to `hermes-fleet generations`. */
/** `instance`: the instance whose generations these are (`instances:`); absent for `hermes:` alone. */
export type GenerationsEntry = { host: string; instance?: string } & (
  | { status: 'ok'; generations: HostGenerations }
  | { status: 'unreachable' | 'failed'; message: string }
);

/** `web1`, or `web1/work` for instance work. */
function entryName(entry: GenerationsEntry): string {
  return entry.instance === undefined ? entry.host : `${entry.host}/${entry.instance}`;
}

function instanceField(entry: GenerationsEntry): { instance?: string } {
  return entry.instance === undefined ? {} : { instance: entry.instance };
}

/** A file name as people read it in a list: a secret one says so (its content never appears). */
function fileLabel(name: string, secret: boolean): string {
  return secret ? `${name} (secret)` : name;
}

interface GenerationRow {
  number: number;
  current: boolean;
  time: string | null;
  release: string | null;
  who: string | null;
  version: string | null;
  inventory: { file: string; sha256: string }[];
  /** Names of the files that differ from the generation before (all of them for the first). */
  changed: string[];
}

function rows(g: HostGenerations): GenerationRow[] {
  return g.generations.map((gen, i) => {
    const secret = new Set(gen.files.filter((f) => f.secret).map((f) => f.name));
    return {
      number: gen.number,
      current: gen.number === g.current,
      time: gen.time ?? null,
      release: gen.release ?? null,
      who: gen.who ?? null,
      version: gen.version ?? null,
      inventory: gen.inventory,
      changed: changedFiles(gen, g.generations[i - 1]).map((name) =>
        fileLabel(name, secret.has(name)),
      ),
    };
  });
}

/** Exit code: 4 when a host was unreachable, 2 when one could not be read, else 0. */
export function generationsExitCode(entries: readonly GenerationsEntry[]): number {
  if (entries.some((e) => e.status === 'failed')) return 2;
  return entries.some((e) => e.status === 'unreachable') ? 4 : 0;
}

/** The human table: per host, its generations oldest first, `*` on the current one. */
export function formatGenerations(entries: readonly GenerationsEntry[]): string {
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.status !== 'ok') {
      out.push(`${entryName(entry)}: ${entry.status}: ${entry.message}`, '');
      continue;
    }
    const list = rows(entry.generations);
    if (list.length === 0) {
      out.push(`${entryName(entry)}: no generation recorded yet`, '');
      continue;
    }
    out.push(`${entryName(entry)}:`);
    const table = [
      ['', 'GEN', 'TIME', 'RELEASE', 'WHO', 'CHANGED'],
      ...list.map((r) => [
        r.current ? '*' : '',
        String(r.number),
        r.time ?? '-',
        r.release ?? '-',
        r.who ?? '-',
        r.changed.join(', ') || '(nothing)',
      ]),
    ];
    const widths = table[0]?.map((_, c) => Math.max(...table.map((row) => row[c]?.length ?? 0)));
    for (const row of table) {
      out.push(
        `  ${row
          .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths?.[c] ?? 0)))
          .join('  ')}`.trimEnd(),
      );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** `--json`: one document; file names only, never a content or a secret. */
export function toGenerationsReport(entries: readonly GenerationsEntry[]): object {
  return {
    version: 1,
    hosts: entries.map((entry) =>
      entry.status === 'ok'
        ? {
            host: entry.host,
            ...instanceField(entry),
            status: entry.status,
            current: entry.generations.current ?? null,
            generations: rows(entry.generations),
          }
        : {
            host: entry.host,
            ...instanceField(entry),
            status: entry.status,
            message: entry.message,
          },
    ),
    exitCode: generationsExitCode(entries),
  };
}
