import { dotenvProblem, encodeDotenvLine } from '../src/dotenv.js';
import type { FactRequest, HostFacts } from '../src/facts/types.js';
import type { HermesSettings, HostSpec } from '../src/inventory/types.js';
import { PlanError } from '../src/plan/types.js';
import type { Change } from '../src/plan/types.js';
import { Secret } from '../src/secret.js';
import { fileSecret, pathFact } from './lib/facts-access.js';
import {
  hermesPaths,
  isUnder,
  ownedAttrs,
  readPath,
  serviceTrees,
  withActor,
  sharesState,
} from './lib/layout.js';
import { planFile } from './lib/plan-file.js';
import {
  forgottenEnvKeys,
  ownedRecord,
  ownedPath,
  parseOwnedEnv,
  renderOwned,
  type OwnedEnv,
} from './lib/fleet-owned.js';
import type { Task } from '../src/plan/task.js';

export const SECRET_FILE_MODE = 0o600;
export const SHARED_ENV_MODE = 0o640;

/** The module writes .env only when there is something to put in it; so do we. */
function managesEnv(h: HermesSettings): boolean {
  return (
    Object.keys(h.environment).length > 0 ||
    Object.keys(h.secrets).length > 0 ||
    h.environmentFiles.length > 0
  );
}

function ownedEnv(h: HermesSettings, facts: HostFacts): OwnedEnv | undefined {
  const fact = pathFact(facts, ownedPath(h, 'env'));
  return parseOwnedEnv(fact.kind === 'file' ? fact.text : undefined);
}

function dotenvLine(section: string, key: string, value: string): string {
  // The message names the key and the problem, never the value.
  const problem = dotenvProblem(key, value);
  if (problem) throw new PlanError(`${section}.${key}: ${problem}`);
  return encodeDotenvLine(key, value);
}

/**
 * The .env text, as the module's activation script builds it: `environment` then `secrets` as
 * one `KEY=value` line each, then for every environment file present on the host an empty line
 * (`echo "" >> .env`) and the file's bytes as they are (`cat f >> .env`). An entry that is
 * absent or not a regular file is skipped, as the script's `[ -f f ]` does.
 */
export function renderDotenv(h: HermesSettings, facts: HostFacts): Secret {
  let text = '';
  for (const [key, value] of Object.entries(h.environment)) {
    text += `${dotenvLine('environment', key, value)}\n`;
  }
  for (const [key, value] of Object.entries(h.secrets)) {
    text += `${dotenvLine('secrets', key, value.reveal())}\n`;
  }
  for (const path of h.environmentFiles) {
    // Read by root, following links: never from a tree the account can swap names in.
    if (serviceTrees(h).some((top) => isUnder(path, top))) {
      throw new PlanError(
        `environmentFiles: ${path} is inside ${h.user}'s own directories, where ${h.user} could make it a link to any file root can read; keep it outside (e.g. /run/secrets)`,
      );
    }
    const fact = pathFact(facts, path);
    // Read with follow, a link shows only when another task asked for the same path unfollowed.
    if (fact.kind === 'symlink') {
      throw new PlanError(
        `environmentFiles: ${path} is a symbolic link to ${fact.target}; name the file it points to`,
      );
    }
    if (fact.kind === 'file') text += `\n${fileSecret(fact, path).reveal()}`;
  }
  return new Secret(text, `generated ${hermesPaths(h).envFile}`);
}

export const secretsTask: Task = {
  name: 'secrets',

  facts(host: HostSpec): FactRequest[] {
    const h = host.hermes;
    const p = hermesPaths(h);
    // Read even when the inventory now sets no key at all: one the fleet wrote must still go.
    const requests: FactRequest[] = [
      readPath(h, { path: p.envFile, content: true, secret: true }),
      readPath(h, { path: ownedPath(h, 'env'), content: true }),
    ];
    for (const path of h.environmentFiles) {
      // Followed, as the module's `[ -f f ]; cat f` does: sops-nix and agenix secrets are
      // links. These paths are root's choice, not the service account's to swap.
      requests.push({ kind: 'path', path, content: true, secret: true, follow: true });
    }
    if (h.authFile) {
      // Only a forced overwrite compares content; a seed only needs to know the file is there.
      requests.push(
        h.authFileForceOverwrite
          ? readPath(h, { path: p.authJson, content: true, secret: true })
          : readPath(h, { path: p.authJson }),
      );
    }
    return requests;
  },

  plan(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const p = hermesPaths(h);
    const attrs = ownedAttrs(h, SECRET_FILE_MODE);
    const changes: Change[] = [];
    const forgets = forgottenEnvKeys(h, ownedEnv(h, facts));
    // With keys to take out, .env is rewritten even if the inventory now sets none.
    if (managesEnv(h) || forgets.length > 0) {
      const env = planFile({
        path: p.envFile,
        fact: pathFact(facts, p.envFile),
        body: { secret: renderDotenv(h, facts) },
        // Group-readable when shared, as the module's: a person's CLI needs the same keys.
        attrs: sharesState(h) ? ownedAttrs(h, SHARED_ENV_MODE) : attrs,
        manage: 'content',
      });
      changes.push(
        ...(env?.kind === 'file' && forgets.length > 0 ? [{ ...env, forgets }] : env ? [env] : []),
      );
    }
    if (h.authFile) {
      const auth = planFile({
        path: p.authJson,
        fact: pathFact(facts, p.authJson),
        body: { secret: h.authFile },
        attrs,
        manage: h.authFileForceOverwrite ? 'content' : 'existence',
      });
      if (auth) changes.push(auth);
    }
    return changes.map((change) => withActor(h, change));
  },

  record(host: HostSpec, facts: HostFacts): Change[] {
    const h = host.hermes;
    const path = ownedPath(h, 'env');
    const text = renderOwned({
      environment: Object.keys(h.environment),
      secrets: Object.keys(h.secrets),
    });
    return ownedRecord(h, path, pathFact(facts, path), text);
  },
};
