import { formatMode, type Attrs, type PathFact } from '../facts/types.js';
import type { Forgotten } from './record.js';

/* The words the change records describe paths with; each kind's own line is in its record. */

export function formatOwner(attrs: { user: string; group: string }): string {
  return `${attrs.user}:${attrs.group}`;
}

/** `0750 hermes:hermes` */
export function formatAttrs(attrs: Attrs): string {
  return `${formatMode(attrs.mode)} ${formatOwner(attrs)}`;
}

/** What differs between the attributes a path has and those it should have. */
export interface AttrDelta {
  mode?: { before: string; after: string };
  owner?: { before: string; after: string };
}

/** Mode and owner differences against an existing path; empty when it is absent. */
export function attrDelta(before: PathFact, after: Attrs): AttrDelta {
  if (before.kind === 'absent') return {};
  const delta: AttrDelta = {};
  const [modeBefore, modeAfter] = [formatMode(before.mode), formatMode(after.mode)];
  if (modeBefore !== modeAfter) delta.mode = { before: modeBefore, after: modeAfter };
  const [ownerBefore, ownerAfter] = [formatOwner(before), formatOwner(after)];
  if (ownerBefore !== ownerAfter) delta.owner = { before: ownerBefore, after: ownerAfter };
  return delta;
}

export function deltaText(delta: AttrDelta): string | undefined {
  const parts: string[] = [];
  if (delta.mode) parts.push(`mode ${delta.mode.before} → ${delta.mode.after}`);
  if (delta.owner) parts.push(`owner ${delta.owner.before} → ${delta.owner.after}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** `: removes a.b, OLD_TOKEN (no longer in the inventory)`: key names only, never a value. */
export function forgetsText(forgets: readonly Forgotten[] | undefined): string {
  if (!forgets || forgets.length === 0) return '';
  return `; removes ${forgets.map((f) => f.key).join(', ')} (no longer in the inventory)`;
}

/** `42.1 MB`: an upload's size as people read it (10^6 bytes, one decimal). */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
