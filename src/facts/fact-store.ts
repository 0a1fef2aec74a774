import { FACT_KINDS, type FactKind, type FactKindRecord, type RequestOf } from './fact-kinds.js';
import type { FactRequest, HostFacts } from './types.js';

/* What the read does with the fact records: requests made one, answers parsed and stored. */

/** Facts with nothing in them yet: one map per place a kind stores its answers. */
export function emptyFacts(): HostFacts {
  return {
    paths: new Map(),
    users: new Map(),
    groups: new Map(),
    units: new Map(),
    commands: new Map(),
    containers: new Map(),
    images: new Map(),
    versions: new Map(),
    tempFiles: new Map(),
    dirEntries: new Map(),
    locks: new Map(),
    generations: new Map(),
  };
}

/** A request's entry in FACT_KINDS. */
export function factKindOf<K extends FactKind>(request: RequestOf<K>): FactKindRecord<K> {
  return FACT_KINDS[request.kind];
}

/** Two requests with the same key ask the same thing. */
export function requestKey(request: FactRequest): string {
  return `${request.kind}\t${factKindOf(request).key(request)}`;
}

/** Two requests with the same key (so of the same kind) as one. */
export function mergeRequests(seen: FactRequest, request: FactRequest): FactRequest {
  const { merge } = factKindOf(request);
  return merge && seen.kind === request.kind ? merge(seen, request) : seen;
}

/** Parses one answer and puts it in `facts`. */
export function storeAnswer(facts: HostFacts, request: FactRequest, fields: readonly string[]) {
  const kind = factKindOf(request);
  if (kind.settled?.(facts, request) === true) return;
  kind.store(facts, request, kind.parse(request, fields));
}

/** Puts in `facts` what the host answers to `request` when nothing is there. */
export function storeNothing(facts: HostFacts, request: FactRequest): void {
  const kind = factKindOf(request);
  kind.store(facts, request, kind.nothing(request));
}
