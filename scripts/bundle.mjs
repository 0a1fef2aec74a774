// Bundles the CLI (src/cli/main.ts) and its dependencies into one CommonJS file,
// dist/hermes-fleet.cjs, then writes V8's code cache for it (dist/hermes-fleet.cache) by running
// it once. Node reads one file instead of several hundred, which halves the CLI's start-up, and
// with the cache it does not compile that file again on every run: about a third less again
// before the first host is contacted (both measured by `npm run bench`). bin/hermes-fleet runs
// the bundle through the cache. CommonJS, not an ES module: node 20 has no code cache for ES
// modules (module.enableCompileCache came in node 22).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// What earlier builds left (the ES module bundle, a cache for another bundle).
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/hermes-fleet.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // The host programs are shell files, linted by shellcheck, and travel inside the bundle as
  // strings (apply.sh and read.sh joined from their parts: src/apply/program.ts,
  // src/facts/program.ts).
  loader: { '.sh': 'text' },
  // ssh2's optional native helpers: absent here, and loaded in try/catch when present.
  external: ['cpu-features', '*.node'],
  // The sources are ES modules: import.meta.url (record-context.ts finds package.json by it) is
  // the bundle's own URL.
  define: { 'import.meta.url': '__hfUrl' },
  banner: { js: "const __hfUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The cache holds what V8 compiled while the CLI started (every module's top level, yargs, the
// commands): `--version` runs all of that and contacts nothing.
execFileSync(process.execPath, ['bin/hermes-fleet', '--version'], {
  env: { ...process.env, HERMES_FLEET_CODE_CACHE: 'write' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
