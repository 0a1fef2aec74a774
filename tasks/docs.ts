import {
  describePathKind,
  type FactRequest,
  type HostFacts,
  type PathFact,
} from '../src/facts/types.js';
import { DOCUMENT_KEY, documentKeyConflict } from '../src/inventory/document-keys.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import { documentDirs } from './dirs.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { pathFact } from './lib/facts-access.js';
import { documentPath, ownedAttrs, readPath, treeDirMode, withActor } from './lib/layout.js';
import { planFile } from './lib/plan-file.js';
import { ownedPath, ownedRecord, parseOwnedDocuments, renderOwned } from './lib/fleet-owned.js';
import type { Task } from '../src/plan/task.js';

export const DOCUMENT_MODE = 0o640;

/**
 * A plain file name, or a path relative to stateDir whose every component is a plain name: the
 * inventory's schema checks keys too (DOCUMENT_KEY); this keeps a bad one, or a record edited on
 * the host, from ever leaving the account's tree.
 */
function isDocumentKey(key: string): boolean {
  return DOCUMENT_KEY.test(key);
}

function checkKey(key: string): void {
  if (!isDocumentKey(key)) {
    throw new PlanError(
      `documents: ${JSON.stringify(key)} is neither a file name nor a path relative to stateDir`,
    );
  }
}

function planDocumentDir(h: HermesSettings, path: string, before: PathFact): Change | undefined {
  if (before.kind === 'absent') {
    return { kind: 'dir', path, attrs: ownedAttrs(h, treeDirMode(h)), before };
  }
  if (before.kind === 'symlink') {
    throw new PlanError(
      `${path} is a symbolic link to ${before.target}: a document's directory must be a real directory in stateDir; nothing is written through it (remove the link and run again)`,
    );
  }
  if (before.kind !== 'dir') {
    throw new PlanError(
      `${path} is ${describePathKind(before)}, not a directory, and a document lies below it; move it out of the way and run again`,
    );
  }
  // A directory that is there already is left as it is: a person may have made it.
  return undefined;
}

/**
 * Documents, written exactly as the inventory gives them: a plain name in workingDirectory, a
 * nested key relative to stateDir (its missing directories made first, as the account). Files
 * the fleet never installed are never touched: the agent and people write their own files there.
 */
export const docsTask: Task = {
  name: 'docs',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    return [
      ...documentDirs(h).map((path) => readPath(h, { path })),
      ...Object.keys(h.documents).map((name) =>
        readPath(h, { path: documentPath(h, name), content: true }),
      ),
      readPath(h, { path: ownedPath(h, 'documents'), content: true }),
    ];
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const attrs = ownedAttrs(h, DOCUMENT_MODE);
    const changes: Change[] = [];
    for (const key of Object.keys(h.documents)) checkKey(key);
    for (const path of documentDirs(h)) {
      const change = planDocumentDir(h, path, pathFact(facts, path));
      if (change) changes.push(change);
    }
    for (const [name, text] of Object.entries(h.documents)) {
      const path = documentPath(h, name);
      const change = planFile({
        path,
        fact: pathFact(facts, path),
        body: { text },
        attrs,
        manage: 'content',
      });
      if (change) changes.push(change);
    }
    // Documents the fleet installed before that the inventory no longer has. Whether the file
    // is still there is not read (its name is known only from the record): rm -f either way.
    const record = ownedPath(h, 'documents');
    const recordFact = pathFact(facts, record);
    const owned = parseOwnedDocuments(recordFact.kind === 'file' ? recordFact.text : undefined);
    for (const name of owned?.documents ?? []) {
      // A name the inventory could not have given (edited on the host) removes nothing.
      if (Object.hasOwn(h.documents, name) || !isDocumentKey(name)) continue;
      if (documentKeyConflict(h, name) !== undefined) continue;
      changes.push({
        kind: 'remove',
        path: documentPath(h, name),
        before: { kind: 'absent' },
        why: 'no longer in the inventory',
      });
    }
    return changes.map((change) => withActor(h, change));
  },

  record(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const path = ownedPath(h, 'documents');
    const text = renderOwned({ documents: Object.keys(h.documents) });
    return ownedRecord(h, path, pathFact(facts, path), text);
  },
};
