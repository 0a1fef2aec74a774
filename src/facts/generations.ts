import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import { lineField } from '../exec/line-field.js';
import GENERATIONS_SH from './generations.sh';

const GENERATIONS_PROGRAM = compactProgram(GENERATIONS_SH);

/** One kept file of a generation, as its manifest says: never its content. */
export interface GenerationFileRecord {
  name: string;
  /** `0640:hermes:hermes`-like (`mode:user:group`), or absent when the file was not there. */
  attrs?: string;
  sha256?: string;
  secret: boolean;
}

/** One generation kept on a host (src/apply/ops/generations.sh records them). */
export interface GenerationRecord {
  number: number;
  time?: string;
  who?: string;
  version?: string;
  release?: string;
  /** `<sha256>  <file name>` of each inventory file of the run that recorded it. */
  inventory: { file: string; sha256: string }[];
  files: GenerationFileRecord[];
}

export interface HostGenerations {
  /** The generation the host is on, when it has one. */
  current?: number;
  /** Oldest first. */
  generations: GenerationRecord[];
}

/**
 * Parses generations.sh's output (see its header). It ends its listing with `end`; a host
 * without the directory answers nothing at all. Anything else without `end` was cut short
 * (the program killed, the session lost) and is refused rather than taken as the whole list.
 */
export function parseGenerations(text: string): HostGenerations {
  const out: HostGenerations = { generations: [] };
  if (text === '') return out;
  let at: GenerationRecord | undefined;
  let ended = false;
  for (const line of text.split('\n')) {
    const [kind = '', ...rest] = line.split('\t');
    if (kind === 'end') {
      ended = true;
    } else if (kind === 'current') {
      const n = Number(rest[0]);
      if (Number.isInteger(n) && n > 0) out.current = n;
    } else if (kind === 'generation') {
      at = { number: Number(rest[0]), inventory: [], files: [] };
      out.generations.push(at);
    } else if (kind === 'meta' && at) {
      const entry = rest.join('\t');
      const eq = entry.indexOf('=');
      const key = entry.slice(0, eq);
      const value = entry.slice(eq + 1);
      if (key === 'time') at.time = value;
      else if (key === 'who') at.who = value;
      else if (key === 'version') at.version = value;
      else if (key === 'release') at.release = value;
      else if (key === 'inventory') {
        const [sha256 = '', ...file] = value.split('  ');
        at.inventory.push({ file: file.join('  '), sha256 });
      }
    } else if (kind === 'file' && at) {
      const [name = '', attrs = 'absent', sha256 = '-', secret = '0'] = rest;
      at.files.push({
        name,
        ...(attrs !== 'absent' ? { attrs } : {}),
        ...(sha256 !== '-' ? { sha256 } : {}),
        secret: secret === '1',
      });
    }
  }
  if (!ended) {
    throw new Error("the host's list of generations was cut short (no `end` line): not using it");
  }
  out.generations.sort((a, b) => a.number - b.number);
  return out;
}

/** Reads the generations kept in `dir` on the host: one round trip, nothing changed. */
export async function readGenerations(
  executor: Executor,
  dir: string,
  commandLine: (script: string) => string,
): Promise<HostGenerations> {
  const result = await executor.exec(commandLine(GENERATIONS_PROGRAM), {
    stdin: `dir=${lineField(dir, 'generations')}\n`,
    timeoutMs: 60_000,
  });
  if (result.exitCode !== 0) {
    const why = result.stderr.toString('utf8').trim();
    throw new Error(
      `listing the generations failed (exit code ${result.exitCode ?? 'none'})${why ? `: ${why}` : ''}`,
    );
  }
  return parseGenerations(result.stdout.toString('utf8'));
}

/**
 * The files of `generation` that differ from `previous` (content, mode or owner, or present in
 * one only), by name: for a secret file the name is all anyone learns.
 */
export function changedFiles(
  generation: GenerationRecord,
  previous: GenerationRecord | undefined,
): string[] {
  if (!previous) return generation.files.filter((f) => f.attrs !== undefined).map((f) => f.name);
  const before = new Map(previous.files.map((f) => [f.name, f]));
  const names = new Set([...generation.files.map((f) => f.name), ...before.keys()]);
  const now = new Map(generation.files.map((f) => [f.name, f]));
  return [...names].filter((name) => {
    const a = before.get(name);
    const b = now.get(name);
    return a?.attrs !== b?.attrs || a?.sha256 !== b?.sha256;
  });
}
