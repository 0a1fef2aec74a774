// The import rules of docs/architecture.md, checked by `npm run lint` (depcruise). Arrows run one
// way: leaves (inventory, exec, errors, secret, dotenv, text) <- transport <- facts <- plan <- tasks;
// leaves <- changes <- plan <- apply <- runner <- report <- cli. Test files and the test helpers (test/utils) may reach
// anywhere; nothing that is built reaches them.
const tests = '(\\.test\\.ts$|^test/)';
const above = (...layers) => `^src/(${layers.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'leaves-import-only-leaves',
      comment:
        'inventory, exec, errors, secret, dotenv and text are the leaves: they import no layer',
      severity: 'error',
      from: {
        path: '^src/(inventory/|exec/|errors\\.ts|secret\\.ts|dotenv\\.ts|text\\.ts)',
        pathNot: tests,
      },
      to: {
        path: [
          above('transport', 'facts', 'changes', 'plan', 'apply', 'runner', 'report', 'cli'),
          '^tasks/',
        ],
      },
    },
    {
      name: 'transport-uses-exec-only',
      comment: 'the transport runs commands; it knows nothing of facts, plans, runs or reports',
      severity: 'error',
      from: { path: '^src/transport/', pathNot: tests },
      to: {
        path: [above('facts', 'changes', 'plan', 'apply', 'runner', 'report', 'cli'), '^tasks/'],
      },
    },
    {
      name: 'facts-use-transport',
      comment: 'facts read hosts; they know no plan, task, run or report',
      severity: 'error',
      from: { path: '^src/facts/', pathNot: tests },
      to: { path: [above('changes', 'plan', 'apply', 'runner', 'report', 'cli'), '^tasks/'] },
    },
    {
      name: 'change-kinds-are-data-and-words',
      comment:
        'a change kind record encodes and describes its change: it reads fact types, no host, run or task',
      severity: 'error',
      from: { path: '^src/changes/', pathNot: tests },
      to: {
        path: [above('transport', 'facts', 'plan', 'apply', 'runner', 'report', 'cli'), '^tasks/'],
        pathNot: '^src/facts/types\\.ts$',
      },
    },
    {
      name: 'plan-types-know-no-hermes',
      comment: 'the plan types and the planning step are generic: no task, no hermes detail',
      severity: 'error',
      from: { path: '^src/plan/', pathNot: tests },
      to: { path: [above('transport', 'apply', 'runner', 'report', 'cli'), '^tasks/'] },
    },
    {
      name: 'tasks-use-plan-and-fact-types',
      comment: 'a task is pure: it reads fact types and returns plan data, no I/O',
      severity: 'error',
      from: { path: '^tasks/', pathNot: tests },
      to: {
        path: [above('transport', 'apply', 'runner', 'report', 'cli'), '^src/facts/'],
        pathNot: '^src/facts/types\\.ts$',
      },
    },
    {
      name: 'apply-uses-plan-and-transport',
      comment: 'apply carries out plans; it knows no task, run or report',
      severity: 'error',
      from: { path: '^src/apply/', pathNot: tests },
      to: { path: [above('runner', 'report', 'cli'), '^tasks/'] },
    },
    {
      name: 'runner-gets-its-tasks',
      comment: 'the runner is handed the task list; it never imports tasks, reports or the cli',
      severity: 'error',
      from: { path: '^src/runner/', pathNot: tests },
      to: { path: [above('report', 'cli'), '^tasks/'] },
    },
    {
      name: 'report-reads-runner-types',
      comment: 'reports read results; of the tasks only the registry (names, status probe)',
      severity: 'error',
      from: { path: '^src/report/', pathNot: tests },
      to: { path: [above('cli'), '^tasks/(?!index\\.ts$)'] },
    },
    {
      name: 'test-helpers-stay-out-of-the-build',
      comment: 'test/ (the helpers in test/utils, the e2e harness) serves tests only',
      severity: 'error',
      from: { pathNot: tests },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment:
        'no cycle at run time; a type may be re-exported from where it is declared beside its code (src/facts/types.ts re-exports FactRequest from its records)',
      severity: 'error',
      from: { pathNot: tests },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.sh'],
    },
  },
};
