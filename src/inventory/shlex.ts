/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible's INI plugin uses to
 * cut a host line into the host and its `key=value` words: whitespace separates words, quotes
 * group and are removed, a backslash escapes the next character outside single quotes, and `#`
 * starts a comment wherever a word could continue (`a=b#c` is `a=b`). Throws on an unclosed
 * quote or a trailing backslash, as Python does.
 */
export function shlexSplit(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      const next = line[i + 1];
      if (next === undefined) throw new Error('No escaped character');
      word += next;
      inWord = true;
      i += 2;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close === -1) throw new Error('No closing quotation');
      word += line.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        const d = line[i];
        if (d === undefined) throw new Error('No closing quotation');
        if (d === '"') {
          i++;
          break;
        }
        // Inside double quotes a backslash escapes only `"` and `\`; otherwise it stays.
        const after = line[i + 1];
        if (d === '\\' && (after === '"' || after === '\\')) {
          word += after;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
