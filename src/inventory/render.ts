import { isSecret } from '../secret.js';
import type { HostSpec } from './types.js';

/**
 * A host's resolved settings as plain data for `hermes-fleet inventory`: every Secret becomes
 * `<secret: SOURCE>` (where it comes from), so this output can be shared or committed.
 */
export function showHost(host: HostSpec): Record<string, unknown> {
  return {
    groups: host.groups,
    ssh: host.ssh,
    ...(host.instances === undefined
      ? { hermes: redact(host.hermes) }
      : {
          instances: Object.fromEntries(
            host.instances.map(({ instance, ...h }) => [instance, redact(h)]),
          ),
        }),
  };
}

function redact(value: unknown): unknown {
  if (isSecret(value)) return `<secret: ${value.source}>`;
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        // A release archive's bytes() is how a run reads it, not a setting.
        .filter(([, child]) => typeof child !== 'function')
        .map(([key, child]) => [key, redact(child)]),
    );
  }
  return value;
}
