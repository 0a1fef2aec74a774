import type { RunResult } from '../runner/types.js';
import { renderHtml } from './html.js';
import { pageRunOf } from './html-model.js';
import { toJsonReport } from './json.js';
import type { RunContext } from './log.js';

/**
 * `--html FILE`: the page of the run just made, built from its JSON report (which refuses a
 * Secret), so the page holds what `--json` would, and no more.
 */
export function renderRunHtml(
  result: RunResult,
  options: { diff: boolean; startedAt: Date; context: RunContext },
): string {
  const report = toJsonReport(result, { diff: options.diff, startedAt: options.startedAt });
  return renderHtml([pageRunOf(report, options.context)]);
}
