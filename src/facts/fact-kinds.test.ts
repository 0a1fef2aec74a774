import { describe, expect, it } from 'vitest';
import { FACT_KINDS } from './fact-kinds.js';
import { factKindOf, requestKey, storeNothing } from './fact-store.js';
import { FACT_SAMPLES as SAMPLES } from '../../test/utils/fact-samples.js';
import { emptyFacts } from './gather.js';
import { READ_SH } from './program.js';

/** The labels of read.sh's `case $op in` (its main loop): the request kinds it answers. */
function answeredKinds(program: string): string[] {
  const body = /\n {2}case \$op in\n([\s\S]*?)\n {2}esac/.exec(program)?.[1] ?? '';
  return [...body.matchAll(/^ {2}([a-z-]+)\)/gm)].map((m) => m[1] ?? '');
}

/** The field names read.sh's `parse` takes: its FIELDS (it refuses any other). */
function readFields(program: string): string[] {
  return (/^FIELDS='([^']*)'$/m.exec(program)?.[1] ?? '').split(' ').filter(Boolean);
}

describe('the fact kinds', () => {
  it('each have a case in read.sh, and send only fields read.sh reads', () => {
    expect(answeredKinds(READ_SH).sort()).toEqual(Object.keys(FACT_KINDS).sort());
    const known = new Set(readFields(READ_SH));
    expect(known.size).toBeGreaterThan(0);
    for (const request of Object.values(SAMPLES)) {
      const sent = Object.keys(factKindOf(request).fields(request));
      expect(
        sent.filter((field) => !known.has(field)),
        request.kind,
      ).toEqual([]);
    }
  });

  it('key apart every kind, and start from what the host has when nothing is there', () => {
    const requests = Object.values(SAMPLES);
    expect(new Set(requests.map(requestKey)).size).toBe(requests.length);
    const facts = emptyFacts();
    for (const request of requests) storeNothing(facts, request);
    expect(facts.paths.get('/p')).toEqual({ kind: 'absent' });
    expect(facts.users.get('u')).toBeNull();
    expect(facts.units.get('x.service')?.loadState).toBe('not-found');
    expect(facts.containers.get('docker:c')).toEqual({ exists: false });
    expect(facts.images.get('podman:i')).toBe(false);
    expect(facts.versions?.get('/bin/x')).toEqual({ kind: 'absent' });
    expect(facts.locks?.get('/l')).toMatchObject({ state: 'free' });
    expect(facts.generations?.get('/g')).toEqual([]);
  });
});
