import { describe, expect, it } from 'vitest';
import type { Change } from '../plan/types.js';
import { formatMode } from '../facts/types.js';
import { describeChange } from './change-kinds.js';
import {
  authChange,
  configChange,
  envChange,
  expectNoSecret,
} from '../../test/utils/run-results.js';
import { ABSENT, HERMES_750, bare, dir, file } from '../../test/utils/facts.js';

const ROOT = { mode: 0o644, user: 'root', group: 'root' };

describe('describeChange', () => {
  const cases: [string, Change, string][] = [
    ['group', { kind: 'group-create', name: 'hermes' }, 'create group hermes'],
    [
      'user',
      {
        kind: 'user-create',
        name: 'hermes',
        group: 'hermes',
        home: '/var/lib/hermes',
        shell: '/bin/bash',
      },
      'create user hermes (home /var/lib/hermes, shell /bin/bash)',
    ],
    [
      'user in another group',
      { kind: 'user-create', name: 'hermes', group: 'ai', home: '/srv/h', shell: '/bin/bash' },
      'create user hermes (group ai, home /srv/h, shell /bin/bash)',
    ],
    [
      'new directory',
      { kind: 'dir', path: '/var/lib/hermes', attrs: HERMES_750, before: ABSENT },
      'create directory /var/lib/hermes (0750 hermes:hermes)',
    ],
    [
      'directory mode',
      {
        kind: 'dir',
        path: '/var/lib/hermes',
        attrs: HERMES_750,
        before: dir({ ...HERMES_750, mode: 0o700 }),
      },
      'mode 0700 → 0750 /var/lib/hermes',
    ],
    [
      'directory owner',
      {
        kind: 'dir',
        path: '/var/lib/hermes',
        attrs: HERMES_750,
        before: dir({ mode: 0o750, user: 'root', group: 'root' }),
      },
      'owner root:root → hermes:hermes /var/lib/hermes',
    ],
    [
      'directory mode and owner',
      {
        kind: 'dir',
        path: '/d',
        attrs: HERMES_750,
        before: dir({ mode: 0o755, user: 'root', group: 'root' }),
      },
      'mode 0755 → 0750, owner root:root → hermes:hermes /d',
    ],
    [
      'new file',
      {
        kind: 'file',
        path: '/etc/systemd/system/hermes-agent.service',
        body: { text: '[Unit]\n' },
        attrs: ROOT,
        before: ABSENT,
      },
      'write /etc/systemd/system/hermes-agent.service (0644 root:root)',
    ],
    [
      'updated file',
      configChange(file('a', { mode: 0o640, user: 'hermes', group: 'hermes' })),
      `update /var/lib/hermes/.hermes/config.yaml`,
    ],
    [
      'updated file with new mode',
      configChange(),
      'update /var/lib/hermes/.hermes/config.yaml (mode 0600 → 0640)',
    ],
    [
      'attrs',
      { kind: 'attrs', path: '/x', attrs: { ...ROOT, mode: 0o640 }, before: bare(ROOT) },
      'mode 0644 → 0640 /x',
    ],
    [
      'symlink',
      {
        kind: 'symlink',
        path: '/usr/local/bin/hermes',
        target: '/opt/hermes/bin/hermes',
        before: ABSENT,
      },
      'link /usr/local/bin/hermes → /opt/hermes/bin/hermes',
    ],
    [
      'relinked symlink',
      {
        kind: 'symlink',
        path: '/usr/local/bin/hermes',
        target: '/opt/b',
        before: { kind: 'symlink', target: '/opt/a', ...ROOT, uid: 0, gid: 0, mtimeMs: 0, size: 6 },
      },
      'link /usr/local/bin/hermes → /opt/b (was → /opt/a)',
    ],
    ['remove', { kind: 'remove', path: '/tmp/x', before: bare(ROOT) }, 'remove file /tmp/x'],
    [
      'restart',
      {
        kind: 'systemd',
        action: 'restart',
        unit: 'hermes-agent.service',
        reason: 'config.yaml changed',
      },
      'restart hermes-agent.service (config.yaml changed)',
    ],
    [
      'enable',
      { kind: 'systemd', action: 'enable', unit: 'hermes-agent.service' },
      'enable hermes-agent.service',
    ],
    [
      'daemon-reload',
      {
        kind: 'systemd',
        action: 'daemon-reload',
        unit: 'hermes-agent.service',
        reason: 'unit file changed',
      },
      'systemctl daemon-reload (unit file changed)',
    ],
    [
      'wait',
      { kind: 'wait-healthy', unit: 'hermes-agent.service', seconds: 3, user: 'hermes' },
      'wait until hermes-agent.service is healthy (3s)',
    ],
    [
      'wait with a command',
      {
        kind: 'wait-healthy',
        unit: 'hermes-agent.service',
        seconds: 5,
        user: 'hermes',
        command: 'curl -f localhost',
      },
      'wait until hermes-agent.service is healthy (5s, then health check as hermes)',
    ],
    [
      'container',
      {
        kind: 'container-remove',
        backend: 'podman',
        name: 'hermes-agent',
        reason: 'image changed',
      },
      'remove podman container hermes-agent (image changed)',
    ],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    expect(describeChange(change)).toBe(expected);
  });

  it('says a secret file is written without its content', () => {
    const lines = [envChange(), authChange(), envChange(ABSENT)].map(describeChange);
    expect(lines).toEqual([
      'update /var/lib/hermes/.hermes/.env (mode 0750 → 0600)',
      'update /var/lib/hermes/.hermes/auth.json (mode 0644 → 0600, owner root:root → hermes:hermes)',
      'write /var/lib/hermes/.hermes/.env (0600 hermes:hermes)',
    ]);
    expectNoSecret(lines.join('\n'));
  });

  it('keeps control characters out of the line', () => {
    const line = describeChange({ kind: 'remove', path: '/tmp/\u001b[31mred\nx', before: ABSENT });
    expect(line).toBe('remove /tmp/\\x1b[31mred\\nx');
  });

  it('formats modes as four octal digits', () => {
    expect(formatMode(0o640)).toBe('0640');
    expect(formatMode(0o4755)).toBe('4755');
    expect(formatMode(0o100644)).toBe('0644');
  });
});
