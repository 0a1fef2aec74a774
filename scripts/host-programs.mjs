// The host programs as they are joined (src/apply/program.ts, src/facts/program.ts), for the
// checks that run outside vitest (scripts/lint-sh.mjs): esbuild bundles the two modules with the
// same text loader as the CLI's bundle, and the result is imported from memory.
import { build } from 'esbuild';

export async function joinedPrograms() {
  const result = await build({
    stdin: {
      contents: [
        "export { APPLY_SH, APPLY_PARTS, UNLOCK_SH, UNLOCK_PARTS } from './src/apply/program.ts';",
        "export { READ_SH, READ_PARTS } from './src/facts/program.ts';",
      ].join('\n'),
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    loader: { '.sh': 'text' },
    logLevel: 'warning',
  });
  const code = result.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}
