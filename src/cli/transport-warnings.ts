import type { RunObserver } from '../runner/types.js';

/** A transport warning as every command prints it on stderr. */
export function printWarning(host: string, text: string): void {
  process.stderr.write(`warning: ${host}: ${text}\n`);
}

/**
 * Wraps a run's observer so that transport warnings (its `warning` events) are collected, per
 * host, for printing once the run is over (after a live view has finished drawing), and also
 * reach the view as level-1 detail, so that -v shows each where it happened.
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
      warning(host, text) {
        warnings.push({ host, text });
        observer.warning?.(host, text);
        observer.detail?.(host, 1, text);
      },
    },
  };
}
