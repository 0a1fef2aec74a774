import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';

/** Parses `I/N` (1-based). */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UserError(`--shard ${text}: expected I/N with 1 <= I <= N, e.g. --shard 2/4`);
  }
  return { index, count };
}

/**
 * The shard a host belongs to, from its name alone (a hash, not its position in the file), so
 * adding or removing a host never moves another host to a different CI job.
 */
export function shardOf(name: string, count: number): number {
  const digest = createHash('sha256').update(name).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function selectShard<T extends { name: string }>(hosts: readonly T[], shard: string): T[] {
  const { index, count } = parseShard(shard);
  return hosts.filter((h) => shardOf(h.name, count) === index);
}
