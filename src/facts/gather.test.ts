import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { describeFailure, gatherFacts } from './gather.js';
import type { FactRequest } from './types.js';

const sh = (script: string) => `sh -c ${quote(script)}`;

describe('gatherFacts (the read script run by a real local shell)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facts-'));
  const hostile = join(dir, "it's $(touch pwned) `id` dir");
  mkdirSync(hostile);
  const file = join(hostile, 'config.yaml');
  writeFileSync(file, 'model: x\nline: "two"\n\u00e9\n');
  chmodSync(file, 0o640);
  const secretFile = join(dir, '.env');
  writeFileSync(secretFile, "KEY='s3cret'\n");
  symlinkSync('/opt/hermes/bin/hermes', join(dir, 'link'));

  it('reads paths, users, groups and commands in one round trip', async () => {
    const requests: FactRequest[] = [
      { kind: 'path', path: hostile },
      { kind: 'path', path: file, content: true },
      { kind: 'path', path: file },
      { kind: 'path', path: secretFile, content: true, secret: true },
      { kind: 'path', path: join(dir, 'link') },
      { kind: 'path', path: join(dir, 'missing') },
      { kind: 'user', name: 'root' },
      { kind: 'user', name: 'no-such-user-xyz' },
      { kind: 'group', name: 'root' },
      { kind: 'command', name: 'sh' },
      { kind: 'command', name: 'no-such-command-xyz' },
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
    expect(facts.paths.get(hostile)).toMatchObject({ kind: 'dir' });
    const config = facts.paths.get(file);
    expect(config).toMatchObject({
      kind: 'file',
      mode: 0o640,
      text: 'model: x\nline: "two"\n\u00e9\n',
    });
    const env = facts.paths.get(secretFile);
    expect(env?.kind === 'file' && env.secret?.reveal()).toBe("KEY='s3cret'\n");
    expect(JSON.stringify(env)).not.toContain('s3cret');
    expect(facts.paths.get(join(dir, 'link'))).toMatchObject({
      kind: 'symlink',
      target: '/opt/hermes/bin/hermes',
    });
    expect(facts.paths.get(join(dir, 'missing'))).toEqual({ kind: 'absent' });
    expect(facts.users.get('root')).toMatchObject({ uid: 0, gid: 0, home: '/root' });
    expect(facts.users.get('no-such-user-xyz')).toBeNull();
    expect(facts.groups.get('root')).toEqual({ name: 'root', gid: 0 });
    expect(facts.commands.get('sh')).toBe(true);
    expect(facts.commands.get('no-such-command-xyz')).toBe(false);
  });

  it('reads a unit on a systemd without --timestamp=unix (before 247)', async () => {
    // A stub systemctl that refuses the option, as systemd 245 (Ubuntu 20.04) or 239 (EL8) do.
    const bin = mkdtempSync(join(tmpdir(), 'old-systemd-'));
    const stub = join(bin, 'systemctl');
    writeFileSync(
      stub,
      [
        '#!/bin/sh',
        'for a in "$@"; do case "$a" in --timestamp*) echo "unrecognized option" >&2; exit 1;; esac; done',
        'printf "LoadState=loaded\\nActiveState=active\\nSubState=running\\nUnitFileState=enabled\\nMainPID=42\\n"',
        '',
      ].join('\n'),
    );
    chmodSync(stub, 0o755);
    const facts = await gatherFacts(
      localExecutor,
      [{ kind: 'unit', name: 'hermes-agent.service' }],
      {
        commandLine: (script) => `PATH=${quote(bin)}:"$PATH" sh -c ${quote(script)}`,
      },
    );
    expect(facts.units.get('hermes-agent.service')).toMatchObject({
      loadState: 'loaded',
      activeState: 'active',
      unitFileState: 'enabled',
      mainPid: 42,
    });
  });

  it('follows links for a request with follow: the fact describes the target', async () => {
    // sops-nix and agenix put secrets behind links (/run/secrets/x -> /run/secrets.d/1/x).
    const real = join(dir, 'real.env');
    writeFileSync(real, 'FROM_LINK=1\n');
    chmodSync(real, 0o600);
    const linked = join(dir, 'linked.env');
    symlinkSync(real, linked);
    const dangling = join(dir, 'dangling.env');
    symlinkSync(join(dir, 'nowhere'), dangling);
    const toDir = join(dir, 'to-dir');
    symlinkSync(hostile, toDir);
    const facts = await gatherFacts(
      localExecutor,
      [
        { kind: 'path', path: linked, content: true, secret: true, follow: true },
        { kind: 'path', path: dangling, content: true, secret: true, follow: true },
        { kind: 'path', path: toDir, follow: true },
      ],
      { commandLine: sh },
    );
    const fact = facts.paths.get(linked);
    expect(fact).toMatchObject({ kind: 'file', mode: 0o600, size: 12 });
    expect(fact?.kind === 'file' && fact.secret?.reveal()).toBe('FROM_LINK=1\n');
    expect(facts.paths.get(dangling)).toEqual({ kind: 'absent' });
    expect(facts.paths.get(toDir)).toMatchObject({ kind: 'dir' });
  });

  it('answers an unfollowed request for the same path as a link, whatever the order', async () => {
    const linked = join(dir, 'both.env');
    symlinkSync(file, linked);
    for (const follow of [true, false]) {
      const facts = await gatherFacts(
        localExecutor,
        [
          { kind: 'path', path: linked, content: true, follow },
          { kind: 'path', path: linked, content: true, follow: !follow },
        ],
        { commandLine: sh },
      );
      expect(facts.paths.get(linked)).toMatchObject({ kind: 'symlink', target: file });
    }
  });

  it('refuses request fields that would break the line protocol', async () => {
    await expect(
      gatherFacts(localExecutor, [{ kind: 'path', path: '/tmp/a\nb' }], { commandLine: sh }),
    ).rejects.toThrow(/newline/);
  });

  it('recognises sudo asking for a password', () => {
    expect(describeFailure(1, 'sudo: a password is required\n')).toMatch(/passwordless sudo/);
  });
});
