/** Where in an input file a problem sits. Line and column are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** Key path inside the document, e.g. `all.children.eu.vars.hermes.settings`. */
  keyPath?: string;
}

/**
 * A mistake in what the person gave us (inventory, flags, -e). The CLI prints `message` without
 * a stack trace and exits 1; no host has been contacted when one is thrown.
 */
export class UserError extends Error {
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;

  constructor(message: string, location?: SourceLocation, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.location = location;
    this.hint = hint;
  }

  /** `file:line:column: key.path: message (hint)` — the one format every bad-input error uses. */
  format(): string {
    const loc = this.location;
    let where = '';
    if (loc) {
      where = loc.file;
      if (loc.line !== undefined) where += `:${loc.line}`;
      if (loc.line !== undefined && loc.column !== undefined) where += `:${loc.column}`;
      where += ': ';
      if (loc.keyPath) where += `${loc.keyPath}: `;
    }
    return `${where}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** A broken invariant inside hermes-fleet itself: a bug, reported with its stack. */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}
