import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

export type LoadedIdentity =
  { ok: true; file: string; key: ParsedKey } | { ok: false; file: string; reason: string };

const rawFiles = new Map<string, Promise<Buffer | NodeJS.ErrnoException>>();
const parsed = new Map<string, Promise<LoadedIdentity>>();

function readOnce(file: string): Promise<Buffer | NodeJS.ErrnoException> {
  let cached = rawFiles.get(file);
  if (!cached) {
    cached = readFile(file).catch((error: unknown) => error as NodeJS.ErrnoException);
    rawFiles.set(file, cached);
  }
  return cached;
}

async function load(file: string, passphraseEnv: string | undefined): Promise<LoadedIdentity> {
  const data = await readOnce(file);
  if (!Buffer.isBuffer(data)) {
    return {
      ok: false,
      file,
      reason:
        data.code === 'ENOENT' ? 'file not found' : `unreadable (${data.code ?? data.message})`,
    };
  }
  const passphrase = passphraseEnv === undefined ? undefined : process.env[passphraseEnv];
  const result = ssh2.utils.parseKey(data, passphrase);
  if (result instanceof Error) {
    if (/no passphrase given/i.test(result.message)) {
      const how =
        passphraseEnv === undefined
          ? 'add it to ssh-agent (ssh-add) or name an environment variable holding the passphrase in ssh.passphraseEnv'
          : `environment variable ${passphraseEnv} (ssh.passphraseEnv) is not set`;
      return { ok: false, file, reason: `encrypted and no passphrase: ${how}` };
    }
    if (/passphrase|integrity check|decrypt/i.test(result.message) && passphrase !== undefined) {
      return {
        ok: false,
        file,
        reason: `cannot be decrypted with the passphrase in ${passphraseEnv ?? ''}`,
      };
    }
    return { ok: false, file, reason: `not a usable private key (${result.message})` };
  }
  // Some formats hold several keys; the types do not say so, the runtime does.
  const key: ParsedKey | undefined = Array.isArray(result) ? (result as ParsedKey[])[0] : result;
  if (key === undefined || !key.isPrivateKey()) {
    return { ok: false, file, reason: 'holds no private key' };
  }
  return { ok: true, file, key };
}

/**
 * Reads and decrypts an identity file once per process: bcrypt key derivation of an encrypted
 * key costs tens of milliseconds, which must not be paid once per host of a large fleet.
 */
export function loadIdentity(file: string, passphraseEnv?: string): Promise<LoadedIdentity> {
  const cacheKey = `${file}\0${passphraseEnv ?? ''}`;
  let cached = parsed.get(cacheKey);
  if (!cached) {
    cached = load(file, passphraseEnv);
    parsed.set(cacheKey, cached);
  }
  return cached;
}

/** The ssh-agent socket when one is advertised (SSH_AUTH_SOCK), as OpenSSH finds it. */
export function agentSocket(): string | undefined {
  const socket = process.env.SSH_AUTH_SOCK;
  return socket === undefined || socket === '' ? undefined : socket;
}
