/**
 * The host programs and their parts (src/apply/lib, src/apply/ops, src/facts/read*.sh, joined by
 * src/apply/program.ts and src/facts/program.ts) are imported as their text: the bundle
 * (scripts/bundle.mjs, esbuild's text loader) and vitest (vitest.config.ts) both load a `.sh`
 * file as a string.
 */
declare module '*.sh' {
  const text: string;
  export default text;
}
