import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Text from hosts (error messages, file contents) and from inventories reaches a terminal or a
 * CI log. An ESC or another control character in it could rewrite the screen or smuggle escape
 * codes into output promised to have none, so every such character is shown as `\xNN` instead.
 * Newlines and tabs survive; a single-line context uses `oneLine`.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (ch) => escapeChar(ch));
}

/** Like `printable`, and a line break becomes `\n` so the text stays on one line. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) =>
    ch === '\n' ? '\\n' : ch === '\t' ? ' ' : escapeChar(ch),
  );
}

function escapeChar(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** `(1.23s)`-style seconds. */
export function seconds(ms: number, digits = 2): string {
  return `${(Math.max(0, ms) / 1000).toFixed(digits)}s`;
}

/**
 * A chalk that colours only when asked: the caller decides (terminal and NO_COLOR), never
 * chalk's own detection, so plain output cannot gain escape codes by accident.
 */
export function palette(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

/** Lines of a possibly multi-line message: the first as is, the rest indented under it. */
export function indentContinuation(text: string, indent: string): string {
  return printable(text)
    .split('\n')
    .map((line, i) => (i === 0 ? line : `${indent}${line}`))
    .join('\n');
}
