import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { pathFact } from './lib/facts-access.js';
import { documentPath, ownedAttrs, readPath, withActor } from './lib/layout.js';
import { planFile } from './lib/plan-file.js';
import type { Task } from '../src/plan/task.js';

export const DOCUMENT_MODE = 0o640;

/** The inventory checks names too; this keeps a bad one from ever leaving workingDirectory. */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name)) {
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
    return Object.keys(h.documents).map((name) =>
      readPath(h, { path: documentPath(h, name), content: true }),
    );
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
    return changes.map((change) => withActor(h, change));
  },
};
