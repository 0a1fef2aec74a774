import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  AuthenticationType,
  AuthHandlerMiddleware,
  Client,
  ConnectConfig,
  NextAuthHandler,
  ServerHostKeyAlgorithm,
} from 'ssh2';
import { agentSocket, loadIdentity } from './identity.js';
import { checkHostKey, knownHostKeyTypes, type HostKeyPolicy } from './known-hosts.js';
import { AbortedError, UnreachableError, type UnreachableReason } from './ssh-errors.js';
import type { SshEndpoint } from './ssh-target.js';

// A peer that stops answering (powered off, network gone) is given up on after about
// interval × (count + 1): ssh2 counts unanswered keepalives and fails on the one after the last.
export const KEEPALIVE_INTERVAL_MS = 5000;
export const KEEPALIVE_COUNT_MAX = 3;

/** Settings every hop of one target shares. */
export interface HopSettings {
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  /** Seconds. */
  connectTimeout: number;
  passphraseEnv?: string;
}

// ssh2's default host key algorithms, in its order (ed25519 is always available on Node 20).
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Host key algorithms that yield a key of a given known_hosts key type. */
function algorithmsForKeyType(keyType: string): ServerHostKeyAlgorithm[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  if (keyType === 'ssh-dss') return ['ssh-dss'];
  return HOST_KEY_ALGORITHMS.filter((algorithm) => algorithm === keyType);
}

/** Known types first, as OpenSSH does, so a host with a recorded key is checked against it. */
export function hostKeyAlgorithmOrder(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const preferred = knownTypes.flatMap(algorithmsForKeyType);
  return [...new Set([...preferred, ...HOST_KEY_ALGORITHMS])];
}

export function endpointLabel(endpoint: SshEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.user}@${host}:${endpoint.port}`;
}

interface ErrorWithLevel extends Error {
  level?: string;
  code?: string | number;
}

function classify(error: ErrorWithLevel): { reason: UnreachableReason; text: string } {
  const code = typeof error.code === 'string' ? error.code : undefined;
  switch (error.level) {
    case 'client-timeout':
      return { reason: 'timeout', text: 'timed out before login completed' };
    case 'client-dns':
      return { reason: 'dns', text: `cannot resolve the host name (${error.message})` };
    case 'client-authentication':
      return { reason: 'auth', text: error.message };
    case 'client-socket':
      if (code === 'ECONNREFUSED') return { reason: 'refused', text: 'connection refused' };
      if (
        code === 'ENOTFOUND' ||
        code === 'EAI_AGAIN' ||
        code === 'EAI_NONAME' ||
        code === 'EAI_FAIL'
      ) {
        return { reason: 'dns', text: `cannot resolve the host name (${code})` };
      }
      if (code === 'ETIMEDOUT') return { reason: 'timeout', text: 'connection timed out' };
      if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
        return { reason: 'other', text: `no route to host (${code})` };
      }
      return { reason: 'other', text: error.message };
    default:
      return { reason: 'other', text: error.message };
  }
}

export interface OpenedClient {
  client: Client;
  warnings: string[];
}

interface AuthPlan {
  methods: AnyAuthMethod[];
  labels: string[];
  skipped: string[];
}

async function planAuth(
  endpoint: SshEndpoint,
  passphraseEnv: string | undefined,
): Promise<AuthPlan> {
  const plan: AuthPlan = { methods: [], labels: [], skipped: [] };
  const agent = agentSocket();
  if (agent !== undefined) {
    plan.methods.push({ type: 'agent', username: endpoint.user, agent });
    plan.labels.push('ssh-agent');
  }
  for (const file of endpoint.identityFiles) {
    const identity = await loadIdentity(file, passphraseEnv);
    if (identity.ok) {
      plan.methods.push({ type: 'publickey', username: endpoint.user, key: identity.key });
      plan.labels.push(file);
    } else {
      plan.skipped.push(`${file} (${identity.reason})`);
    }
  }
  return plan;
}

function authFailureText(
  endpoint: SshEndpoint,
  plan: AuthPlan,
  tried: readonly string[],
  serverMethods: readonly AuthenticationType[] | undefined,
  notes: readonly string[],
): string {
  const parts = [`permission denied for user ${endpoint.user}`];
  if (plan.methods.length === 0) {
    parts.push(
      agentSocket() === undefined
        ? 'no ssh-agent (SSH_AUTH_SOCK is unset) and no usable identity file'
        : 'no usable identity file',
    );
    if (endpoint.identityFiles.length === 0) {
      parts.push('none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa exists; set ssh.identityFile');
    }
  } else {
    parts.push(`tried ${tried.length > 0 ? tried.join(', ') : 'nothing'}`);
  }
  if (plan.skipped.length > 0) parts.push(`skipped ${plan.skipped.join(', ')}`);
  if (serverMethods) parts.push(`the server accepts: ${serverMethods.join(', ') || 'nothing'}`);
  if (notes.length > 0) parts.push(notes.join('; '));
  return parts.join('; ');
}

/**
 * Connects and logs in to one endpoint, directly or over `sock` (a channel forwarded by a
 * bastion). The host key is checked before authentication starts; every failure rejects with
 * an UnreachableError saying which step failed, and leaves no socket open.
 */
export async function openClient(
  endpoint: SshEndpoint,
  settings: HopSettings,
  options: { sock?: Duplex; signal?: AbortSignal; role?: string } = {},
): Promise<OpenedClient> {
  const label = `${options.role ? `${options.role} ` : ''}${endpointLabel(endpoint)}`;
  const lookupName = endpoint.hostKeyAlias ?? endpoint.host;
  let knownTypes: string[] = [];
  let plan: AuthPlan;
  try {
    if (settings.hostKeyPolicy !== 'off') {
      knownTypes = await knownHostKeyTypes(settings.knownHosts, lookupName, endpoint.port).catch(
        (error: unknown) => {
          throw new UnreachableError(
            'hostkey',
            `${label}: cannot read ${settings.knownHosts}: ${(error as Error).message}`,
          );
        },
      );
    }
    plan = await planAuth(endpoint, settings.passphraseEnv);
    if (options.signal?.aborted) throw new AbortedError(`${label}: connect aborted`);
  } catch (error) {
    // The bastion's forwarded channel is ours to close when we never got to use it.
    options.sock?.destroy();
    throw error;
  }

  return new Promise<OpenedClient>((resolve, reject) => {
    const client = new ssh2.Client();
    const warnings: string[] = [];
    const tried: string[] = [];
    const authNotes: string[] = [];
    let serverMethods: AuthenticationType[] | undefined;
    let hostKeyFailure: string | undefined;
    let settled = false;

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      // Later errors from the dying client must not become unhandled 'error' events.
      client.on('error', () => undefined);
      client.destroy();
      options.sock?.destroy();
      reject(error);
    };
    const onAbort = (): void => {
      fail(new AbortedError(`${label}: connect aborted`));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ client, warnings });
    });
    client.on('error', (error: ErrorWithLevel) => {
      // ssh2 reports a broken agent or a key that cannot sign as errors, then goes on with the
      // next method: keep them for the final message instead of failing early.
      if (error.level === 'agent') {
        authNotes.push(`ssh-agent failed: ${error.message}`);
        return;
      }
      if (
        error.level === 'client-authentication' &&
        !/all configured authentication methods failed/i.test(error.message)
      ) {
        authNotes.push(error.message);
        return;
      }
      if (hostKeyFailure !== undefined) {
        fail(new UnreachableError('hostkey', `${label}: ${hostKeyFailure}`, { cause: error }));
        return;
      }
      const { reason, text } = classify(error);
      const message =
        reason === 'auth' ? authFailureText(endpoint, plan, tried, serverMethods, authNotes) : text;
      fail(new UnreachableError(reason, `${label}: ${message}`, { cause: error }));
    });
    client.on('close', () => {
      if (hostKeyFailure !== undefined) {
        fail(new UnreachableError('hostkey', `${label}: ${hostKeyFailure}`));
      } else {
        fail(
          new UnreachableError(
            'other',
            `${label}: the server closed the connection before login completed`,
          ),
        );
      }
    });

    let next = 0;
    const authHandler: AuthHandlerMiddleware = (
      methodsLeft: AuthenticationType[] | null,
      _partial: boolean | null,
      callback: NextAuthHandler,
    ): void => {
      if (methodsLeft) serverMethods = methodsLeft;
      for (;;) {
        const method = plan.methods[next];
        const methodLabel = plan.labels[next];
        next += 1;
        if (method === undefined || methodLabel === undefined) {
          callback(false as unknown as AuthenticationType);
          return;
        }
        // Agent and key files both authenticate with "publickey"; skip them when the server
        // says it will not take a key.
        if (serverMethods && !serverMethods.includes('publickey')) continue;
        tried.push(methodLabel);
        callback(method);
        return;
      }
    };

    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: settings.connectTimeout * 1000,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      algorithms: { serverHostKey: hostKeyAlgorithmOrder(knownTypes) },
      authHandler,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void): void => {
        checkHostKey({
          file: settings.knownHosts,
          host: lookupName,
          port: endpoint.port,
          keyType: '',
          keyBlob: key,
          policy: settings.hostKeyPolicy,
        }).then(
          (result) => {
            if (result.ok) {
              if (result.warning !== undefined) warnings.push(result.warning);
              verify(true);
            } else {
              hostKeyFailure = result.message;
              verify(false);
            }
          },
          (error: unknown) => {
            hostKeyFailure = `cannot check the host key against ${settings.knownHosts}: ${(error as Error).message}`;
            verify(false);
          },
        );
      },
    };
    if (options.sock) config.sock = options.sock;
    try {
      client.connect(config);
    } catch (error) {
      fail(
        new UnreachableError('other', `${label}: ${(error as Error).message}`, { cause: error }),
      );
    }
  });
}
