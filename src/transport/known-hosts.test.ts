import { execFileSync } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprintSha256,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostKeyTypes,
  knownHostsName,
  parseKnownHosts,
} from './known-hosts.js';

function sshString(value: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

/** A fresh ed25519 public key in SSH wire format. */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  return Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);
}

function hashName(name: string, salt = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

const root = mkdtempSync(join(tmpdir(), 'hermes-fleet-kh-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function tempDir(): string {
  return mkdtempSync(join(root, 'case-'));
}

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  } catch (error) {
    return (error as { status?: number }).status !== undefined;
  }
  return true;
}

const KEY_A = ed25519Blob();
const KEY_B = ed25519Blob();
const A64 = KEY_A.toString('base64');
const B64 = KEY_B.toString('base64');

describe('parseKnownHosts', () => {
  it('reads plain, hashed and marked lines and skips comments, blanks and junk', () => {
    const text = [
      '# a comment',
      '',
      `web1,10.0.0.1 ssh-ed25519 ${A64} root@web1`,
      `   ${hashName('web2')} ssh-ed25519 ${A64}`,
      `@revoked * ssh-ed25519 ${B64}`,
      `@cert-authority *.example.net ssh-ed25519 ${B64}`,
      `@bogus web3 ssh-ed25519 ${A64}`,
      'broken-line-without-key',
      `web4 ssh-ed25519 not*base64`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((entry) => [entry.line, entry.marker, entry.hosts.slice(0, 3)])).toEqual([
      [3, undefined, 'web'],
      [4, undefined, '|1|'],
      [5, 'revoked', '*'],
      [6, 'cert-authority', '*.e'],
    ]);
    expect(entries[0]?.keyType).toBe('ssh-ed25519');
    expect(entries[0]?.keyBase64).toBe(A64);
  });
});

describe('hostFieldMatches', () => {
  it('matches names, lists, wildcards and negations case-insensitively', () => {
    expect(hostFieldMatches('web1,10.0.0.1', 'web1')).toBe(true);
    expect(hostFieldMatches('web1,10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostFieldMatches('web1', 'web10')).toBe(false);
    expect(hostFieldMatches('WEB1', 'web1')).toBe(true);
    expect(hostFieldMatches('*.example.net', 'a.example.net')).toBe(true);
    expect(hostFieldMatches('*.example.net', 'example.net')).toBe(false);
    expect(hostFieldMatches('web?', 'web7')).toBe(true);
    expect(hostFieldMatches('web?', 'web77')).toBe(false);
    expect(hostFieldMatches('*.example.net,!bad.example.net', 'bad.example.net')).toBe(false);
    expect(hostFieldMatches('!bad.example.net,*.example.net', 'good.example.net')).toBe(true);
    expect(hostFieldMatches('!bad.example.net', 'other')).toBe(false);
    // Regex metacharacters in a pattern are literal.
    expect(hostFieldMatches('10.0.0.1', '10a0b0c1')).toBe(false);
  });

  it('matches [host]:port entries only on that port', () => {
    expect(knownHostsName('Web1', 22)).toBe('web1');
    expect(knownHostsName('web1', 2222)).toBe('[web1]:2222');
    expect(hostFieldMatches('[web1]:2222', knownHostsName('web1', 2222))).toBe(true);
    expect(hostFieldMatches('[web1]:2222', knownHostsName('web1', 22))).toBe(false);
    expect(hostFieldMatches('web1', knownHostsName('web1', 2222))).toBe(false);
    expect(hostFieldMatches('[*.example.net]:*', knownHostsName('a.example.net', 2200))).toBe(true);
  });

  it('matches hashed names made with HMAC-SHA1', () => {
    expect(hostFieldMatches(hashName('web1'), 'web1')).toBe(true);
    expect(hostFieldMatches(hashName('web1'), 'WEB1')).toBe(true);
    expect(hostFieldMatches(hashName('web1'), 'web2')).toBe(false);
    expect(hostFieldMatches(hashName('[web1]:2222'), '[web1]:2222')).toBe(true);
    expect(hostFieldMatches('|1|garbage', 'web1')).toBe(false);
    expect(hostFieldMatches('|2|abc|def', 'web1')).toBe(false);
  });

  it.skipIf(!hasSshKeygen())(
    'matches what ssh-keygen -H hashed, and agrees with ssh-keygen -F',
    () => {
      const dir = tempDir();
      const file = join(dir, 'known_hosts');
      const plain = [
        `web1 ssh-ed25519 ${A64}`,
        `[web2.example.net]:2222 ssh-ed25519 ${A64}`,
        `10.1.2.3 ssh-ed25519 ${B64}`,
      ];
      writeFileSync(file, `${plain.join('\n')}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
      const hashed = parseKnownHosts(readFileSync(file, 'utf8'));
      expect(hashed).toHaveLength(3);
      for (const entry of hashed) expect(entry.hosts.startsWith('|1|')).toBe(true);
      const lookups: [string, number, boolean][] = [
        ['web1', 22, true],
        ['web2.example.net', 2222, true],
        ['web2.example.net', 22, false],
        ['10.1.2.3', 22, true],
        ['web3', 22, false],
      ];
      for (const [host, port, expected] of lookups) {
        const name = knownHostsName(host, port);
        expect(
          hashed.some((entry) => hostFieldMatches(entry.hosts, name)),
          name,
        ).toBe(expected);
        let sshKeygenFound = true;
        try {
          execFileSync('ssh-keygen', ['-F', name, '-f', file], { stdio: 'pipe' });
        } catch {
          sshKeygenFound = false;
        }
        expect(sshKeygenFound, `ssh-keygen -F ${name}`).toBe(expected);
      }
    },
  );
});

describe('fingerprints and blobs', () => {
  it('prints OpenSSH SHA256 fingerprints without padding', () => {
    const expected = createHash('sha256').update(KEY_A).digest('base64').replace(/=+$/, '');
    expect(fingerprintSha256(KEY_A)).toBe(`SHA256:${expected}`);
    expect(fingerprintSha256(KEY_A)).not.toContain('=');
  });

  it.skipIf(!hasSshKeygen())('agrees with ssh-keygen -lf', () => {
    const dir = tempDir();
    const file = join(dir, 'key.pub');
    writeFileSync(file, `ssh-ed25519 ${A64} test\n`);
    const output = execFileSync('ssh-keygen', ['-lf', file]).toString();
    expect(output).toContain(fingerprintSha256(KEY_A));
  });

  it('reads the key type from a blob', () => {
    expect(keyTypeOfBlob(KEY_A)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBe('');
    expect(keyTypeOfBlob(Buffer.from([0, 0, 0, 99, 1]))).toBe('');
  });
});

describe('checkHostKey', () => {
  const base = { keyType: 'ssh-ed25519', port: 22 } as const;

  it('reads the file again when it changed since the last check (parsed once per text)', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `web1 ssh-ed25519 ${A64}\n`);
    const check = { ...base, file, host: 'web1', keyBlob: KEY_A, policy: 'strict' } as const;
    expect(await checkHostKey(check)).toEqual({ ok: true });
    writeFileSync(file, `web1 ssh-ed25519 ${B64}\n`);
    expect(await checkHostKey(check)).toMatchObject({ ok: false, kind: 'changed' });
  });

  it('accepts a known key, plain or hashed, under strict', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `web1 ssh-ed25519 ${A64}\n${hashName('[web2]:2200')} ssh-ed25519 ${A64}\n`);
    expect(
      await checkHostKey({ ...base, file, host: 'web1', keyBlob: KEY_A, policy: 'strict' }),
    ).toEqual({ ok: true });
    expect(
      await checkHostKey({
        ...base,
        file,
        host: 'web2',
        port: 2200,
        keyBlob: KEY_A,
        policy: 'strict',
      }),
    ).toEqual({ ok: true });
  });

  it('rejects an unknown host under strict, saying how to add it', async () => {
    const file = join(tempDir(), 'known_hosts');
    const result = await checkHostKey({
      ...base,
      file,
      host: 'web9',
      port: 2222,
      keyBlob: KEY_A,
      policy: 'strict',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.kind).toBe('unknown');
    expect(result.message).toContain('[web9]:2222');
    expect(result.message).toContain(fingerprintSha256(KEY_A));
    expect(result.message).toContain('ssh-keyscan -p 2222 web9');
  });

  it('reports a changed key with file, line, both fingerprints and the fix', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `# header\nother ssh-ed25519 ${A64}\nweb1 ssh-ed25519 ${B64}\n`);
    for (const policy of ['strict', 'accept-new'] as const) {
      const result = await checkHostKey({ ...base, file, host: 'web1', keyBlob: KEY_A, policy });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.kind).toBe('changed');
      expect(result.message).toContain(`${file}:3`);
      expect(result.message).toContain(fingerprintSha256(KEY_A));
      expect(result.message).toContain(fingerprintSha256(KEY_B));
      expect(result.message).toContain(`ssh-keygen -R web1 -f ${file}`);
    }
  });

  it('fails hard on a revoked key even when it is also listed as good', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `web1 ssh-ed25519 ${A64}\n@revoked * ssh-ed25519 ${A64}\n`);
    for (const policy of ['strict', 'accept-new'] as const) {
      const result = await checkHostKey({ ...base, file, host: 'web1', keyBlob: KEY_A, policy });
      expect(result).toMatchObject({ ok: false, kind: 'revoked' });
    }
  });

  it('does not take a @cert-authority key for a host key', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `@cert-authority * ssh-ed25519 ${A64}\n`);
    const result = await checkHostKey({
      ...base,
      file,
      host: 'web1',
      keyBlob: KEY_A,
      policy: 'strict',
    });
    expect(result).toMatchObject({ ok: false, kind: 'unknown' });
  });

  it('honours negated patterns', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `*.example.net,!evil.example.net ssh-ed25519 ${A64}\n`);
    const good = await checkHostKey({
      ...base,
      file,
      host: 'good.example.net',
      keyBlob: KEY_A,
      policy: 'strict',
    });
    const evil = await checkHostKey({
      ...base,
      file,
      host: 'evil.example.net',
      keyBlob: KEY_A,
      policy: 'strict',
    });
    expect(good.ok).toBe(true);
    expect(evil).toMatchObject({ ok: false, kind: 'unknown' });
  });

  it('accept-new records unknown hosts once, creating the file 0600 in a 0700 directory', async () => {
    const dir = join(tempDir(), 'ssh');
    const file = join(dir, 'known_hosts');
    const first = await checkHostKey({
      ...base,
      file,
      host: 'Web1',
      keyBlob: KEY_A,
      policy: 'accept-new',
    });
    expect(first).toEqual({ ok: true, added: true });
    const second = await checkHostKey({
      ...base,
      file,
      host: 'web1',
      keyBlob: KEY_A,
      policy: 'accept-new',
    });
    expect(second).toEqual({ ok: true });
    await checkHostKey({
      ...base,
      file,
      host: 'web2',
      port: 2222,
      keyBlob: KEY_B,
      policy: 'accept-new',
    });
    expect(readFileSync(file, 'utf8')).toBe(
      `web1 ssh-ed25519 ${A64}\n[web2]:2222 ssh-ed25519 ${B64}\n`,
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('accept-new appends after a last line without a newline', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `web1 ssh-ed25519 ${A64}`);
    await checkHostKey({ ...base, file, host: 'web2', keyBlob: KEY_B, policy: 'accept-new' });
    expect(readFileSync(file, 'utf8')).toBe(`web1 ssh-ed25519 ${A64}\nweb2 ssh-ed25519 ${B64}\n`);
  });

  it('accept-new serializes 100 concurrent hosts into 100 whole lines, no duplicates', async () => {
    const file = join(tempDir(), 'known_hosts');
    const keys = Array.from({ length: 100 }, () => ed25519Blob());
    const results = await Promise.all([
      ...keys.map((keyBlob, index) =>
        checkHostKey({ ...base, file, host: `host${index}`, keyBlob, policy: 'accept-new' }),
      ),
      // The same host twice at once must be recorded once.
      ...[0, 1].map(() =>
        checkHostKey({ ...base, file, host: 'twice', keyBlob: KEY_A, policy: 'accept-new' }),
      ),
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(101);
    const entries = parseKnownHosts(lines.join('\n'));
    expect(entries).toHaveLength(101);
    for (const [index, keyBlob] of keys.entries()) {
      expect(
        entries.some(
          (entry) =>
            entry.hosts === `host${index}` && entry.keyBase64 === keyBlob.toString('base64'),
        ),
      ).toBe(true);
    }
  });

  it('accept-new refuses a new key type when another type is known', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `web1 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n`);
    const result = await checkHostKey({
      ...base,
      file,
      host: 'web1',
      keyBlob: KEY_A,
      policy: 'accept-new',
    });
    expect(result).toMatchObject({ ok: false, kind: 'changed' });
    expect(readFileSync(file, 'utf8')).not.toContain(A64);
  });

  it('off accepts anything and returns a warning', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(file, `web1 ssh-ed25519 ${B64}\n`);
    const result = await checkHostKey({
      ...base,
      file,
      host: 'web1',
      keyBlob: KEY_A,
      policy: 'off',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warning).toMatch(/host key checking is off for web1/);
  });

  it('lists the key types known for a host', async () => {
    const file = join(tempDir(), 'known_hosts');
    writeFileSync(
      file,
      `web1 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n${hashName('web1')} ssh-ed25519 ${A64}\n@cert-authority * ecdsa-sha2-nistp256 ${B64}\n`,
    );
    expect(await knownHostKeyTypes(file, 'web1', 22)).toEqual(['ssh-rsa', 'ssh-ed25519']);
    expect(await knownHostKeyTypes(file, 'web2', 22)).toEqual([]);
    expect(await knownHostKeyTypes(join(tempDir(), 'missing'), 'web1', 22)).toEqual([]);
  });
});
