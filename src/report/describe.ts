import { formatMode, pathKindNoun, type Attrs, type PathFact } from '../facts/types.js';
import { shortImageId } from '../inventory/image-archive.js';
import type { Change, Forgotten } from '../plan/types.js';
import { oneLine } from './text.js';

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

function deltaText(delta: AttrDelta): string | undefined {
  const parts: string[] = [];
  if (delta.mode) parts.push(`mode ${delta.mode.before} → ${delta.mode.after}`);
  if (delta.owner) parts.push(`owner ${delta.owner.before} → ${delta.owner.after}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** `: removes a.b, OLD_TOKEN (no longer in the inventory)`: key names only, never a value. */
function forgetsText(forgets: readonly Forgotten[] | undefined): string {
  if (!forgets || forgets.length === 0) return '';
  return `; removes ${forgets.map((f) => f.key).join(', ')} (no longer in the inventory)`;
}

/** `42.1 MB`: an upload's size as people read it (10^6 bytes, one decimal). */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * One short line saying what a change does, for people: `create directory /var/lib/hermes
 * (0750 hermes:hermes)`. Never shows file contents, so a secret body cannot appear here.
 */
export function describeChange(change: Change): string {
  return oneLine(describe(change));
}

function describe(change: Change): string {
  switch (change.kind) {
    case 'group-create':
      return `create group ${change.name}`;
    case 'user-create': {
      const group = change.group === change.name ? '' : `group ${change.group}, `;
      return `create user ${change.name} (${group}home ${change.home}, shell ${change.shell})`;
    }
    case 'dir': {
      const { before, path, attrs } = change;
      if (before.kind === 'absent') return `create directory ${path} (${formatAttrs(attrs)})`;
      if (before.kind !== 'dir') {
        return `replace ${pathKindNoun(before.kind)} with directory ${path} (${formatAttrs(attrs)})`;
      }
      const delta = deltaText(attrDelta(before, attrs));
      return delta ? `${delta} ${path}` : `directory ${path} (${formatAttrs(attrs)})`;
    }
    case 'file': {
      const { before, path, attrs } = change;
      if (before.kind === 'absent') return `write ${path} (${formatAttrs(attrs)})`;
      if (before.kind !== 'file') {
        return `replace ${pathKindNoun(before.kind)} with file ${path} (${formatAttrs(attrs)})`;
      }
      const delta = deltaText(attrDelta(before, attrs));
      const update = delta ? `update ${path} (${delta})` : `update ${path}`;
      return `${update}${forgetsText(change.forgets)}`;
    }
    case 'attrs': {
      const delta = deltaText(attrDelta(change.before, change.attrs));
      return delta
        ? `${delta} ${change.path}`
        : `set ${change.path} to ${formatAttrs(change.attrs)}`;
    }
    case 'symlink': {
      const { before } = change;
      const was =
        before.kind === 'symlink'
          ? ` (was → ${before.target})`
          : before.kind === 'absent'
            ? ''
            : ` (replaces a ${pathKindNoun(before.kind)})`;
      return `link ${change.path} → ${change.target}${was}`;
    }
    case 'remove': {
      const what =
        change.before.kind === 'absent'
          ? `remove ${change.path}`
          : `remove ${pathKindNoun(change.before.kind)} ${change.path}`;
      return change.why === undefined ? what : `${what} (${change.why})`;
    }
    case 'systemd': {
      const reason = change.reason ? ` (${change.reason})` : '';
      return change.action === 'daemon-reload'
        ? `systemctl daemon-reload${reason}`
        : `${change.action} ${change.unit}${reason}`;
    }
    case 'release-unpack': {
      const id = change.path.slice(change.path.lastIndexOf('/') + 1);
      return `upload release ${id} (${formatMegabytes(change.archive.size)})`;
    }
    case 'release-switch':
      return `switch current: ${change.from ?? '(none)'} -> ${change.to}`;
    case 'release-remove':
      return `remove ${change.path} (${change.why})`;
    case 'image-load': {
      const { archive } = change;
      const file = archive.written.slice(archive.written.lastIndexOf('/') + 1);
      return `load image ${shortImageId(archive.id)} from ${file} (${formatMegabytes(archive.size)})`;
    }
    case 'wait-healthy': {
      // The command itself is left to -vv detail: it is inventory text and can be long.
      const check = change.command === undefined ? '' : `, then health check as ${change.user}`;
      return `wait until ${change.unit} is healthy (${change.seconds}s${check})`;
    }
    case 'container-remove':
      return `remove ${change.backend} container ${change.name} (${change.reason})`;
    case 'restart-pending':
      return change.action === 'set'
        ? `note that ${change.unit} must restart (${change.path}, until a restart succeeds)`
        : `clear the pending-restart note ${change.path}`;
    case 'generation-restore':
      return change.number === undefined
        ? `restore the generation before the current one (${change.path})`
        : `restore generation ${change.number} (${change.path})`;
    case 'generation':
      return `record a generation in ${change.path} (${change.files.map((f) => f.name).join(', ')}; keep ${change.keep})`;
  }
}
