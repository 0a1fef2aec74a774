import type { RunObserver } from '../runner/types.js';
import { isTransportWarning } from '../transport/warnings.js';

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
