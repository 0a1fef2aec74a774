import type { RunObserver } from '../runner/types.js';

// The runner passes a connection's warnings on as level-1 detail, which the views show only
// under -v; these texts are marked so the CLI can show them on every run.
const issued = new Set<string>();

/** Marks a text as a transport warning (host key checking off, an ignored ssh config, …). */
export function transportWarning(text: string): string {
  issued.add(text);
  return text;
}

export function isTransportWarning(text: string): boolean {
  return issued.has(text);
}

/**
 * Wraps an observer so transport warnings are also collected, per host, for printing once the
 * run is over (after a live view has finished drawing). Everything still reaches `observer`.
 */
export function collectTransportWarnings(observer: RunObserver): {
  observer: RunObserver;
  warnings: { host: string; text: string }[];
} {
  const warnings: { host: string; text: string }[] = [];
  return {
    warnings,
    observer: {
      ...observer,
      detail(host, level, text) {
        if (isTransportWarning(text)) warnings.push({ host, text });
        observer.detail?.(host, level, text);
      },
    },
  };
}
