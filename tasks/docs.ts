import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { pathFact } from './lib/facts-access.js';
import { documentPath, ownedAttrs, readPath, withActor } from './lib/layout.js';
import { planFile } from './lib/plan-file.js';
import { ownedPath, ownedRecord, parseOwnedDocuments, renderOwned } from './lib/fleet-owned.js';
import type { Task } from '../src/plan/task.js';

export const DOCUMENT_MODE = 0o640;

function isPlainName(name: string): boolean {
  return !(name === '' || name === '.' || name === '..' || /[/\0\t\n\r]/.test(name));
}

/** The inventory checks names too; this keeps a bad one from ever leaving workingDirectory. */
function checkName(name: string): void {
  if (!isPlainName(name)) {
    throw new PlanError(`documents: ${JSON.stringify(name)} is not a plain file name`);
  }
}

/**
 * Workspace documents, written exactly as the inventory gives them. Documents not in the
 * inventory are never touched: the agent and people write their own files there.
 */
export const docsTask: Task = {
  name: 'docs',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    return [
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
    for (const [name, text] of Object.entries(h.documents)) {
      checkName(name);
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
      if (Object.hasOwn(h.documents, name) || !isPlainName(name)) continue;
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
