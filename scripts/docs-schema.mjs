// Writes the generated parts of docs/report-schema.md (the change kinds' table and the JSON
// Schema) from the code: src/report/schema-doc.ts, bundled for this one run.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const outfile = 'dist/docs-schema.mjs';
await build({
  entryPoints: ['src/report/schema-doc.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  loader: { '.sh': 'text' },
  logLevel: 'warning',
});
try {
  const { updateSchemaDoc } = await import(pathToFileURL(outfile).href);
  const path = 'docs/report-schema.md';
  const before = readFileSync(path, 'utf8');
  const after = updateSchemaDoc(before);
  writeFileSync(path, after);
  console.log(before === after ? `${path}: up to date` : `${path}: written`);
} finally {
  rmSync(outfile, { force: true });
}
