import { describe, expect, it } from 'vitest';
import type { Change } from '../plan/types.js';
import { Secret } from '../secret.js';
import { renderChangeDiff } from './change-kinds.js';
import { secretDiff } from '../changes/file-diff.js';
import type { ChangeOf } from '../changes/index.js';

type FileChange = ChangeOf<'file'>;
import {
  AUTH_PATH,
  ENV_PATH,
  authChange,
  configChange,
  envChange,
  expectNoSecret,
} from '../../test/utils/run-results.js';
import { ABSENT, HERMES_750, bare, dir, file } from '../../test/utils/facts.js';

const plain = { color: false };
const ENV_ATTRS = { mode: 0o600, user: 'hermes', group: 'hermes' };

function secretFile(path: string, before: string | undefined, after: string): FileChange {
  return {
    kind: 'file',
    path,
    body: { secret: new Secret(after, 'test') },
    attrs: ENV_ATTRS,
    before: before === undefined ? ABSENT : file(new Secret(before, 'host'), ENV_ATTRS),
  };
}

function both(change: Change): string[] {
  return [true, false].map((color) => renderChangeDiff('web01', change, { color }) ?? '');
}

describe('renderChangeDiff: text files', () => {
  it('is a unified diff with host and path in the headers', () => {
    const change = configChange(
      file('a: 1\nb: 2\n', { mode: 0o640, user: 'hermes', group: 'hermes' }),
    );
    expect(renderChangeDiff('web01', change, plain)).toBe(
      [
        '--- web01:/var/lib/hermes/.hermes/config.yaml (before)',
        '+++ web01:/var/lib/hermes/.hermes/config.yaml (after)',
        '@@ -1,2 +1,3 @@',
        '-a: 1',
        '-b: 2',
        '+model:',
        '+  default: new',
        '+keep: 1',
      ].join('\n'),
    );
  });

  it('diffs a new file against nothing and says it was absent', () => {
    const out = renderChangeDiff('web01', configChange(ABSENT), plain) ?? '';
    expect(out.split('\n').slice(0, 3)).toEqual([
      '--- web01:/var/lib/hermes/.hermes/config.yaml (absent)',
      '+++ web01:/var/lib/hermes/.hermes/config.yaml (after)',
      '@@ -0,0 +1,3 @@',
    ]);
  });

  it('puts a mode change on one line before the content diff', () => {
    const out = renderChangeDiff('web01', configChange(), plain) ?? '';
    expect(out.split('\n')[0]).toBe('web01:/var/lib/hermes/.hermes/config.yaml: mode 0600 → 0640');
    expect(out).toContain('-  default: old');
  });

  it('shows a file whose old content was not read without inventing a diff', () => {
    const out = renderChangeDiff(
      'web01',
      configChange(bare({ mode: 0o640, user: 'hermes', group: 'hermes' })),
      plain,
    );
    expect(out).toBe(
      'web01:/var/lib/hermes/.hermes/config.yaml: content replaced (its previous content was not read)',
    );
  });

  it('shows nothing when the content and attributes stay', () => {
    const same = configChange(
      file('model:\n  default: new\nkeep: 1\n', { mode: 0o640, user: 'hermes', group: 'hermes' }),
    );
    expect(renderChangeDiff('web01', same, plain)).toBeUndefined();
  });

  it('escapes control characters of remote content', () => {
    const change = configChange(
      file('evil: "\u001b]0;pwned\u0007"\n', { mode: 0o640, user: 'hermes', group: 'hermes' }),
    );
    const out = renderChangeDiff('web01', change, plain) ?? '';
    expect(out).toContain('-evil: "\\x1b]0;pwned\\x07"');
    expect(out.includes('\u001b')).toBe(false);
  });

  it('colours only when asked', () => {
    const [coloured = '', uncoloured = ''] = both(configChange());
    expect(coloured.includes('\u001b[3')).toBe(true);
    expect(uncoloured.includes('\u001b')).toBe(false);
  });
});

describe('renderChangeDiff: mode and owner', () => {
  it('is one line each', () => {
    const change: Change = {
      kind: 'attrs',
      path: '/var/lib/hermes/.hermes/config.yaml',
      attrs: { mode: 0o640, user: 'hermes', group: 'hermes' },
      before: bare({ mode: 0o644, user: 'root', group: 'root' }),
    };
    expect(renderChangeDiff('web01', change, plain)).toBe(
      [
        'web01:/var/lib/hermes/.hermes/config.yaml: mode 0644 → 0640',
        'web01:/var/lib/hermes/.hermes/config.yaml: owner root:root → hermes:hermes',
      ].join('\n'),
    );
  });

  it('covers directories that exist', () => {
    const change: Change = {
      kind: 'dir',
      path: '/d',
      attrs: HERMES_750,
      before: dir({ ...HERMES_750, mode: 0o700 }),
    };
    expect(renderChangeDiff('web01', change, plain)).toBe('web01:/d: mode 0700 → 0750');
  });

  it('has nothing to show for other changes', () => {
    expect(
      renderChangeDiff('web01', { kind: 'group-create', name: 'hermes' }, plain),
    ).toBeUndefined();
    expect(
      renderChangeDiff(
        'web01',
        { kind: 'dir', path: '/d', attrs: HERMES_750, before: ABSENT },
        plain,
      ),
    ).toBeUndefined();
  });
});

describe('renderChangeDiff: secret files', () => {
  it('lists the .env keys added, removed and changed, never a value', () => {
    for (const out of both(envChange())) {
      expectNoSecret(out);
      expect(out).not.toContain('info');
      expect(out).not.toContain('debug');
    }
    expect(renderChangeDiff('web01', envChange(), plain)).toBe(
      [
        'web01:/var/lib/hermes/.hermes/.env: mode 0750 → 0600',
        '--- web01:/var/lib/hermes/.hermes/.env (before)',
        '+++ web01:/var/lib/hermes/.hermes/.env (after)',
        '+ NEW_KEY (secret added)',
        '- REMOVED_KEY (secret removed)',
        '~ OPENROUTER_API_KEY (secret changed)',
        '~ LOG_LEVEL (secret changed)',
      ].join('\n'),
    );
  });

  it('shows every key as added when the file is new', () => {
    const out = renderChangeDiff('web01', envChange(ABSENT), plain) ?? '';
    expect(out).toContain(`--- web01:${ENV_PATH} (absent)`);
    expect(out.split('\n').filter((l) => l.startsWith('+ '))).toEqual([
      '+ OPENROUTER_API_KEY (secret added)',
      '+ LOG_LEVEL (secret added)',
      '+ SAME_KEY (secret added)',
      '+ NEW_KEY (secret added)',
    ]);
    expectNoSecret(out);
  });

  it('compares the top-level keys of auth.json', () => {
    const out = renderChangeDiff('web01', authChange(), plain) ?? '';
    expect(out.split('\n').filter((l) => /^[-+~] /.test(l))).toEqual([
      '+ version (secret added)',
      '- legacy (secret removed)',
      '~ providers (secret changed)',
    ]);
    expectNoSecret(out);
  });

  it('ignores key order inside a JSON value', () => {
    const change = secretFile(
      AUTH_PATH,
      '{"a":{"x":"SECRET-VALUE-123","y":1}}',
      '{"a":{"y":1,"x":"SECRET-VALUE-123"}}',
    );
    expect(secretDiff(change)).toEqual({ kind: 'opaque' });
    const same = secretFile(AUTH_PATH, '{"a":1}', '{"a":1}');
    expect(renderChangeDiff('web01', same, plain)).toBeUndefined();
  });

  it('says only "(secret changed)" when a side cannot be parsed', () => {
    const cases: [string, string, string][] = [
      [AUTH_PATH, '{"token": "SECRET-OLD-456"', '{"token": "SECRET-VALUE-123"}'],
      [AUTH_PATH, '["SECRET-OLD-456"]', '{"token": "SECRET-VALUE-123"}'],
      [ENV_PATH, 'not an assignment SECRET-OLD-456\n', "A='SECRET-VALUE-123'\n"],
      [ENV_PATH, "'QUOTED_KEY'='SECRET-OLD-456'\n", "A='SECRET-VALUE-123'\n"],
    ];
    for (const [path, before, after] of cases) {
      for (const color of [false, true]) {
        const out = renderChangeDiff('web01', secretFile(path, before, after), { color }) ?? '';
        expect(out).toContain(`web01:${path}: (secret changed)`);
        expectNoSecret(out);
      }
    }
  });

  it('does not take the lines of a multi-line quoted value for keys', () => {
    // python-dotenv reads a quoted value across lines; a PEM body has lines ending in `=`.
    const before = [
      'PRIVATE_KEY="-----BEGIN PRIVATE KEY-----',
      'PEMLINE0SECRETAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      'SECRET-MULTI-LINE=yes',
      '-----END PRIVATE KEY-----"',
      "OTHER='SECRET-VALUE-123'",
    ].join('\n');
    const after = "OTHER='SECRET-VALUE-123'\n";
    for (const [b, a] of [
      [before, after],
      [after, before],
      [undefined, before],
    ] as const) {
      const out = renderChangeDiff('web01', secretFile(ENV_PATH, b, a), plain) ?? '';
      expect(out).toBe(`web01:${ENV_PATH}: (secret changed)`);
      expectNoSecret(out);
    }
  });

  it('handles a single-quoted value that spans lines like python-dotenv', () => {
    const before = "A='first\nSECRET-VALUE-123=x'\nB='2'\n";
    const out = renderChangeDiff('web01', secretFile(ENV_PATH, before, "B='3'\n"), plain) ?? '';
    expect(out).toBe(`web01:${ENV_PATH}: (secret changed)`);
  });

  it('reads escaped quotes the way python-dotenv does', () => {
    // `\"` does not close the value, so the next line is still inside it.
    const before = 'A="x\\"\nSECRET-VALUE-123=1"\n';
    const out = renderChangeDiff('web01', secretFile(ENV_PATH, before, "A='y'\n"), plain) ?? '';
    expect(out).toBe(`web01:${ENV_PATH}: (secret changed)`);
    // A value whose quote closes on its line, with a comment after it, is fine.
    const ok = renderChangeDiff(
      'web01',
      secretFile(ENV_PATH, 'A="x\\"y" # note\nexport B=1\n', "A='y'\nB=1\n"),
      plain,
    );
    expect(ok).toContain('~ A (secret changed)');
    expect(ok).not.toContain('B (');
  });

  it('says "(secret changed)" when only comments or order changed', () => {
    const out = renderChangeDiff(
      'web01',
      secretFile(ENV_PATH, "# a\nA='SECRET-VALUE-123'\n", "# b\nA='SECRET-VALUE-123'\n"),
      plain,
    );
    expect(out).toBe(`web01:${ENV_PATH}: (secret changed)`);
  });

  it('says "(secret changed)" when the old content was not read', () => {
    const change: FileChange = {
      ...secretFile(ENV_PATH, undefined, "A='SECRET-VALUE-123'\n"),
      before: bare(ENV_ATTRS),
    };
    expect(renderChangeDiff('web01', change, plain)).toBe(`web01:${ENV_PATH}: (secret changed)`);
  });

  it('quotes JSON keys that are not plain names', () => {
    const change = secretFile(AUTH_PATH, '{}', '{"we ird\\u001b[31m\\nkey":"SECRET-VALUE-123"}');
    const out = renderChangeDiff('web01', change, plain) ?? '';
    expect(out).toContain('+ "we ird\\u001b[31m\\nkey" (secret added)');
    expect(out.includes('\u001b')).toBe(false);
    expectNoSecret(out);
  });

  it('treats a file as secret when its host content was read as a secret', () => {
    const change: Change = {
      kind: 'file',
      path: ENV_PATH,
      body: { text: "A='1'\n" },
      attrs: ENV_ATTRS,
      before: file(new Secret("A='SECRET-VALUE-123'\n", 'host'), ENV_ATTRS),
    };
    const out = renderChangeDiff('web01', change, plain) ?? '';
    expect(out).toContain('~ A (secret changed)');
    expectNoSecret(out);
  });

  it('never shows a secret whatever the values hold', () => {
    const hostile = [
      'SECRET-VALUE-123\nB=SECRET-OLD-456',
      'it\'s "SECRET-VALUE-123" \\ \r\n',
      'OPENROUTER_API_KEY',
      '# SECRET-VALUE-123',
      '${X}SECRET-VALUE-123',
      '',
    ];
    for (const value of hostile) {
      const escaped = value
        .replace(/\\/g, '\\\\')
        .replace(/"/g, '\\"')
        .replace(/\n/g, '\\n')
        .replace(/\r/g, '\\r');
      const after = `OPENROUTER_API_KEY="${escaped}"\nSECRET_KEY_NAME="${escaped}"\n`;
      for (const before of [undefined, "OPENROUTER_API_KEY='SECRET-OLD-456'\n", after]) {
        for (const color of [false, true]) {
          const out =
            renderChangeDiff('web01', secretFile(ENV_PATH, before, after), { color }) ?? '';
          expectNoSecret(out.replace(/SECRET_KEY_NAME/g, ''));
        }
      }
    }
  });
});

describe('renderChangeDiff: releases', () => {
  it('says the upload and the switch in one line each', () => {
    const archive = {
      path: '/local/r.tar.gz',
      written: 'r.tar.gz',
      sha256: `${'b'.repeat(16)}${'0'.repeat(48)}`,
      id: 'b'.repeat(16),
      size: 42_100_000,
      format: 'gzip' as const,
      strip: 1,
      bytes: () => Promise.reject(new Error('not read by a report')),
    };
    const unpack: Change = {
      kind: 'release-unpack',
      path: `/opt/r/releases/${archive.id}`,
      archive,
    };
    const change: Change = {
      kind: 'release-switch',
      path: '/opt/r/current',
      target: `releases/${archive.id}`,
      before: { kind: 'absent' },
      from: 'a'.repeat(16),
      to: archive.id,
    };
    expect(renderChangeDiff('web01', unpack, plain)).toBe(
      `web01:/opt/r/releases/${archive.id}: upload release ${archive.id} (42.1 MB)`,
    );
    expect(renderChangeDiff('web01', change, plain)).toBe(
      `web01:/opt/r/current: switch current: ${'a'.repeat(16)} -> ${archive.id}`,
    );
  });
});
