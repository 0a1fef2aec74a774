// The runner passes a connection's warnings on as level-1 detail, which the views show only
// under -v; these texts are marked so the CLI can show them on every run.
const issued = new Set<string>();

/** Marks a text as a transport warning (host key checking off, an ignored ssh config, …). */
export function transportWarning(text: string): string {
  issued.add(text);
  return text;
}

export function isTransportWarning(text: string): boolean {
  return issued.has(text);
}
