import { defineConfig } from 'vitest/config';

export default defineConfig({
  // A host program's file (`import DETACH_SH from './detach.sh'`) is its text, as in the bundle.
  plugins: [
    {
      name: 'host-program-text',
      enforce: 'pre',
      transform(code: string, id: string) {
        return id.endsWith('.sh')
          ? { code: `export default ${JSON.stringify(code)};`, map: null }
          : null;
      },
    },
  ],
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // Installs the Debian packages the tests need (as root) before any test file is imported.
    globalSetup: ['./test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'src/**/*.test.ts',
            'tasks/**/*.test.ts',
            'test/unit/**/*.test.ts',
            'test/utils/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/fleet/**/*.test.ts'],
          // One fleet on one machine: e2e files run one after another, in one worker.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
