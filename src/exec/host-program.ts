/**
 * A host program as it travels: without its comment lines and blank lines (it is sent twice
 * per round trip, as the command and as its own $1, and read by the host's shell each time).
 * The programs keep no `#` line and no blank line inside a quoted string, so this is exact.
 */
export function compactProgram(program: string): string {
  return program
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*#/.test(line))
    .join('\n')
    .concat('\n');
}
