// html-escaper ships no types: the two functions it exports, as its README documents them.
declare module 'html-escaper' {
  /** Escapes & < > ' " as HTML entities: safe in text and in quoted attribute values. */
  export function escape(text: string): string;
  export function unescape(text: string): string;
}
