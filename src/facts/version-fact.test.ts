import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { gatherFacts } from './gather.js';
import type { FactRequest } from './types.js';

const sh = (script: string) => `sh -c ${quote(script)}`;
const isRoot = process.getuid?.() === 0;
/** The service user the program runs as; root is needed to switch to it. */
const USER = 'nobody';

function program(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe.skipIf(!isRoot)('the version fact (the read script run by a real local shell)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'version-fact-'));
  chmodSync(dir, 0o755);
  const hostileDir = join(dir, "it's $(touch pwned) `id` dir");
  mkdirSync(hostileDir, { mode: 0o755 });

  it('runs `<path> --version` with the path as data, in the same round trip as other facts', async () => {
    const good = program(hostileDir, 'hermes', 'echo "hermes-agent 1.2.3 ($1)"; cat');
    const broken = program(dir, 'broken', 'echo "boom" >&2; exit 3');
    const requests: FactRequest[] = [
      { kind: 'version', path: good, user: USER },
      { kind: 'path', path: good },
      { kind: 'version', path: broken, user: USER },
      { kind: 'version', path: join(dir, 'missing'), user: USER },
    ];
    let calls = 0;
    const facts = await gatherFacts(
      {
        exec: (command, request) => {
          calls++;
          return localExecutor.exec(command, request);
        },
      },
      requests,
      { commandLine: sh },
    );
    expect(calls).toBe(1);
    // `cat` read nothing: the program's stdin is /dev/null, not the request stream.
    expect(facts.versions?.get(good)).toEqual({
      kind: 'ran',
      exitCode: 0,
      output: 'hermes-agent 1.2.3 (--version)\n',
    });
    expect(facts.paths.get(good)).toMatchObject({ kind: 'file' });
    expect(facts.versions?.get(broken)).toEqual({ kind: 'ran', exitCode: 3, output: 'boom\n' });
    expect(facts.versions?.get(join(dir, 'missing'))).toEqual({ kind: 'absent' });
    expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false);
  });

  it('keeps at most 2 KiB of what a program prints', async () => {
    const chatty = program(dir, 'chatty', 'printf "v9\\n"; head -c 100000 /dev/zero | tr "\\0" x');
    const facts = await gatherFacts(
      localExecutor,
      [{ kind: 'version', path: chatty, user: USER }],
      {
        commandLine: sh,
      },
    );
    const fact = facts.versions?.get(chatty);
    expect(fact?.kind).toBe('ran');
    if (fact?.kind === 'ran') {
      expect(fact.output.length).toBe(2048);
      expect(fact.output.startsWith('v9\n')).toBe(true);
    }
  });

  it('gives up on a program that hangs', { timeout: 30_000 }, async () => {
    const hangs = program(dir, 'hangs', 'exec sleep 60');
    const started = Date.now();
    const facts = await gatherFacts(localExecutor, [{ kind: 'version', path: hangs, user: USER }], {
      commandLine: sh,
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(facts.versions?.get(hangs)).toMatchObject({ kind: 'ran', exitCode: 124 });
  });

  it('runs the program as the service user, in /, never as root', async () => {
    // The package directory may be writable by the service account: as root, its program
    // would be code execution as root.
    const who = program(dir, 'who', 'echo "$(id -un) $(pwd)"');
    const facts = await gatherFacts(localExecutor, [{ kind: 'version', path: who, user: USER }], {
      commandLine: sh,
    });
    expect(facts.versions?.get(who)).toEqual({
      kind: 'ran',
      exitCode: 0,
      output: `${USER} /\n`,
    });
  });

  it('runs nothing when the service user does not exist', async () => {
    const marker = join(dir, 'ran');
    const touch = program(dir, 'touch-marker', `touch ${quote(marker)}; echo v1`);
    const facts = await gatherFacts(
      localExecutor,
      [{ kind: 'version', path: touch, user: 'no-such-user-xyz' }],
      { commandLine: sh },
    );
    expect(facts.versions?.get(touch)).toEqual({ kind: 'no-user', user: 'no-such-user-xyz' });
    expect(existsSync(marker)).toBe(false);
  });
});
