import { inspect } from 'node:util';

const REDACTED = '***';

/**
 * A secret value from the inventory (or read from a host). Its value is reachable only through
 * `reveal()`: every accidental rendering (string interpolation, JSON, util.inspect, console.log)
 * shows `***`, so a secret cannot leak through a log line, a diff or a report by mistake.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from, for humans: `env OPENROUTER_API_KEY`, `file secrets/x`, … */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  equals(other: Secret | string): boolean {
    return this.#value === (typeof other === 'string' ? other : other.reveal());
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}
