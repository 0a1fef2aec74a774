// Bundles the CLI (src/cli/main.ts) and its dependencies into one ES module,
// dist/hermes-fleet.mjs. Node resolves and compiles one file instead of several hundred, which
// halves the CLI's start-up (measured by `npm run bench`); bin/hermes-fleet runs the bundle.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/hermes-fleet.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // The host programs are shell files, linted by shellcheck, and travel inside the bundle as
  // strings (apply.sh and read.sh joined from their parts: src/apply/program.ts,
  // src/facts/program.ts).
  loader: { '.sh': 'text' },
  // ssh2's optional native helpers: absent here, and loaded in try/catch when present.
  external: ['cpu-features', '*.node'],
  // CommonJS dependencies (ssh2, yargs internals) expect these inside an ES module bundle.
  banner: {
    js: [
      "import { createRequire as __hfRequire } from 'node:module';",
      "import { fileURLToPath as __hfPath } from 'node:url';",
      "import { dirname as __hfDirname } from 'node:path';",
      'const require = __hfRequire(import.meta.url);',
      'const __filename = __hfPath(import.meta.url);',
      'const __dirname = __hfDirname(__filename);',
    ].join(' '),
  },
});
