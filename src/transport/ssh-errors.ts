export type UnreachableReason =
  'refused' | 'timeout' | 'dns' | 'auth' | 'hostkey' | 'lost' | 'other';

/** A host (or a bastion on the way to it) could not be connected to and logged in to. */
export class UnreachableError extends Error {
  readonly reason: UnreachableReason;

  constructor(reason: UnreachableReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnreachableError';
    this.reason = reason;
  }

  /** Worth another try: the host may just be booting or briefly overloaded. */
  get retryable(): boolean {
    return this.reason === 'refused' || this.reason === 'timeout';
  }
}

/** The connection dropped while a command ran; whether the command finished is unknown. */
export class ConnectionLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionLostError';
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortError';
  }
}
