/**
 * The host programs (src/facts/read.sh, src/apply/apply.sh) are imported as their text: the
 * bundle (scripts/bundle.mjs, esbuild's text loader) and vitest (vitest.config.ts) both load a
 * `.sh` file as a string.
 */
declare module '*.sh' {
  const text: string;
  export default text;
}
