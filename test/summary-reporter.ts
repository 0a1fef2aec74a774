// Prints one plain closing line ("Tests: N passed, N failed, N skipped") after vitest's own
// report, so any CI that reads the last line knows how many tests really ran.
import type { Reporter } from 'vitest/reporters';
import type { RunnerTask as Task, RunnerTestFile as File } from 'vitest';

function count(tasks: readonly Task[], acc: { passed: number; failed: number; skipped: number }) {
  for (const task of tasks) {
    if (task.type === 'suite') {
      count(task.tasks, acc);
      continue;
    }
    const state = task.result?.state;
    if (state === 'pass') acc.passed++;
    else if (state === 'fail') acc.failed++;
    else acc.skipped++;
  }
  return acc;
}

export default class SummaryReporter implements Reporter {
  onFinished(files: File[] = []): void {
    const totals = count(files, { passed: 0, failed: 0, skipped: 0 });
    const failedFiles = files.filter((f) => f.result?.state === 'fail' && f.tasks.length === 0);
    totals.failed += failedFiles.length;
    process.stdout.write(
      `\nTests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
    );
  }
}
