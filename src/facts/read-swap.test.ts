import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localExecutor } from '../exec/local-executor.js';
import { quote } from '../exec/quote.js';
import { gatherFacts } from './gather.js';

/**
 * The service account owns the directories whose files the read script reads as root, so it can
 * swap a name for a link to any file between the script's checks and its read. The content of
 * a link's target (say /etc/shadow) must never come back as the file's: it would show in
 * --diff, the JSON report and --log.
 */
function racedCommandLine(
  name: string,
  to: string,
  when = '*"exec 6<"*|b64*|base64*',
): (script: string) => string {
  // bash runs the script with a DEBUG trap that swaps `name` for a link to `to` right before the
  // first command that matches `when` (by default: that opens or reads it after the checks): the
  // attacker winning the race.
  const trap = [
    'set -T',
    `trap 'case $BASH_COMMAND in ${when}) if [ -z "$swapped" ] && [ "$path" = ${quote(name)} ]; then swapped=1; rm -f -- "$path"; ln -s -- ${quote(to)} "$path"; fi ;; esac' DEBUG`,
    '',
  ].join('\n');
  return (script) => `bash -c ${quote(trap + script)}`;
}

describe('the fact read never sends back the content of a link swapped in', () => {
  // A config.yaml swapped for a link to a shadow file when the read's command matches `when`.
  async function racedRead(when?: string): Promise<unknown> {
    const dir = mkdtempSync(join(tmpdir(), 'read-swap-'));
    const shadow = join(dir, 'shadow');
    writeFileSync(shadow, 'root:$6$secret-hash:19000::::::\n');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'model: x\n');
    return gatherFacts(localExecutor, [{ kind: 'path', path: config, content: true }], {
      commandLine: racedCommandLine(config, shadow, when),
    });
  }

  it('a file swapped for a link between the check and the read is refused, not read', async () => {
    await expect(racedRead()).rejects.toThrow(/changed while it was read/);
  });

  it('a file swapped for a link right before the one batched stat is refused, not read', async () => {
    // The batched stat (no link followed) is what the open file is compared with: the link's
    // own inode, which no open reaches.
    await expect(racedRead('*%d:%i*')).rejects.toThrow(/changed while it was read/);
  });

  it('a link planted before the read is reported as a link, its target unread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'read-swap-'));
    const shadow = join(dir, 'shadow');
    writeFileSync(shadow, 'secret-hash');
    const config = join(dir, 'config.yaml');
    symlinkSync(shadow, config);
    const facts = await gatherFacts(
      localExecutor,
      [{ kind: 'path', path: config, content: true }],
      { commandLine: (script) => `sh -c ${quote(script)}` },
    );
    expect(facts.paths.get(config)).toMatchObject({ kind: 'symlink', target: shadow });
    expect(JSON.stringify(facts.paths.get(config))).not.toContain('secret-hash');
  });
});
