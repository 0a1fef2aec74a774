/**
 * One strict reader for the XML subset a JUnit file uses (elements, quoted attributes, text), for
 * the unit and e2e tests of --junit: it throws on anything a CI's JUnit reader could choke on.
 */

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Entities decoded: the five named ones and character references; a bare `&` throws. */
export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new Error(`bare & in ${JSON.stringify(text)}`);
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    const value = ENTITIES[name];
    if (value === undefined) throw new Error(`unknown entity ${whole}`);
    return value;
  });
}

/**
 * The root element of `xml`: it must open with the XML declaration, hold no control character,
 * nest well, quote every attribute once, and have exactly one root (whitespace around it aside).
 */
export function parseXml(xml: string): XmlNode {
  const prolog = '<?xml version="1.0" encoding="UTF-8"?>';
  if (!xml.startsWith(prolog)) throw new Error('no XML declaration');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(xml)) {
    throw new Error('control character in XML');
  }
  const token = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const document: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [document];
  token.lastIndex = prolog.length;
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex;
    const match = token.exec(xml);
    if (!match) throw new Error(`not well-formed at ${at}: ${xml.slice(at, at + 60)}`);
    const [, close, name = '', attrText = '', selfClose, text] = match;
    const top = stack.at(-1);
    if (!top) throw new Error('content after the root element');
    if (text !== undefined) {
      if (text.includes(']]>')) throw new Error('raw ]]> in text');
      top.text += decodeXml(text);
    } else if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const [, key = '', value = ''] of attrText.matchAll(/([A-Za-z][\w.-]*)="([^"]*)"/g)) {
        if (key in attrs) throw new Error(`attribute ${key} twice on <${name}>`);
        attrs[key] = decodeXml(value);
      }
      const node: XmlNode = { name, attrs, children: [], text: '' };
      top.children.push(node);
      if (!selfClose) stack.push(node);
    }
  }
  const [root, ...rest] = document.children;
  if (stack.length !== 1 || !root || rest.length > 0 || document.text.trim() !== '') {
    throw new Error('not exactly one closed root element');
  }
  return root;
}
