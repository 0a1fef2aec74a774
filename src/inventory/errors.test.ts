import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { fixtureDir } from '../../test/unit/inventory/fixture.js';
import { loadInventory } from './load.js';

interface Case {
  name: string;
  yaml: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
  line: number;
  column?: number;
  keyPath: string;
  message: RegExp;
  hint?: RegExp;
  /** Text that must not appear anywhere in the error (a secret's value). */
  hidden?: string;
}

/**
 * Every bad input becomes one UserError whose text names the file, the line (and column) and
 * the key path. Lines below count from the first line of `yaml`.
 */
const cases: Case[] = [
  {
    name: 'YAML syntax error',
    yaml: 'all:\n  hosts:\n    web1: [\n',
    line: 4,
    keyPath: '',
    message: /YAML syntax error/,
  },
  {
    name: 'duplicate key',
    yaml: 'all:\n  hosts:\n    web1:\n    web1:\n',
    line: 4,
    column: 5,
    keyPath: 'all.hosts.web1',
    message: /the key "web1" appears twice/,
  },
  {
    name: 'unknown top-level key',
    yaml: 'al:\n  hosts:\n    web1:\n',
    line: 1,
    column: 1,
    keyPath: 'al',
    message: /unknown key "al"/,
    hint: /did you mean `all`/,
  },
  {
    name: 'unknown key in hermes',
    yaml: 'all:\n  vars:\n    hermes:\n      pakage: /opt/hermes\n  hosts:\n    web1:\n',
    line: 4,
    column: 7,
    keyPath: 'all.vars.hermes.pakage',
    message: /unknown key "pakage"/,
    hint: /did you mean `package`\?/,
  },
  {
    name: 'unknown key in ssh',
    yaml: 'all:\n  hosts:\n    web1:\n      ssh:\n        prot: 22\n',
    line: 5,
    keyPath: 'all.hosts.web1.ssh.prot',
    message: /unknown key "prot"/,
    hint: /`port`/,
  },
  {
    name: 'unknown key in a group',
    yaml: 'all:\n  children:\n    eu:\n      hots:\n        web1:\n',
    line: 4,
    keyPath: 'all.children.eu.hots',
    message: /unknown key "hots"/,
    hint: /`hosts`/,
  },
  {
    name: 'unknown key deep in mcpServers',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        mcpServers:\n          fs:\n            command: npx\n            sampling: { max_token_cap: 5 }\n',
    line: 8,
    keyPath: 'all.hosts.web1.hermes.mcpServers.fs.sampling.max_token_cap',
    message: /unknown key "max_token_cap"/,
    hint: /`max_tokens_cap`/,
  },
  {
    name: 'unknown key in a secret reference',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { evn: X }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K.evn',
    message: /unknown key "evn"/,
    hint: /`env`/,
  },
  {
    name: 'unknown key in a document reference',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          A.md: { fil: a.md }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents["A.md"].fil',
    message: /unknown key "fil"/,
    hint: /`file`/,
  },
  {
    name: 'wrong type: port as text',
    yaml: 'all:\n  hosts:\n    web1:\n      ssh:\n        port: twenty-two\n',
    line: 5,
    column: 15,
    keyPath: 'all.hosts.web1.ssh.port',
    message: /expected a number, got a string/,
  },
  {
    name: 'wrong type: boolean as text',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        createUser: "yes"\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.createUser',
    message: /expected true or false, got a string/,
  },
  {
    name: 'wrong type: settings as a list',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        settings: [a]\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.settings',
    message: /expected a map, got a list/,
  },
  {
    name: 'wrong type: extraArgs as text',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        extraArgs: --verbose\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.extraArgs',
    message: /expected a list, got a string/,
  },
  {
    name: 'port out of range',
    yaml: 'all:\n  hosts:\n    web1:\n      ssh: { port: 70000 }\n',
    line: 4,
    column: 20,
    keyPath: 'all.hosts.web1.ssh.port',
    message: /port number from 1 to 65535/,
  },
  {
    name: 'port zero',
    yaml: 'all:\n  vars:\n    ssh: { port: 0 }\n  hosts:\n    web1:\n',
    line: 3,
    keyPath: 'all.vars.ssh.port',
    message: /port number from 1 to 65535/,
  },
  {
    name: 'restart not a systemd value',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        restart: alway\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.restart',
    message:
      /must be one of: no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always/,
    hint: /`always`/,
  },
  {
    name: 'document key that climbs out of stateDir',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          sub/../../A.md: hi\n',
    line: 6,
    column: 11,
    keyPath: 'all.hosts.web1.hermes.documents["sub/../../A.md"]',
    message: /path relative to stateDir/,
  },
  {
    name: 'document key that is absolute',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          /etc/passwd: hi\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents["/etc/passwd"]',
    message: /no leading "\/"/,
  },
  {
    name: 'document key with an empty component',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          .hermes//A.md: hi\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents[".hermes//A.md"]',
    message: /no empty/,
  },
  {
    name: 'document key on a file the fleet writes',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          .hermes/config.yaml: hi\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents[".hermes/config.yaml"]',
    message: /\/var\/lib\/hermes\/\.hermes\/config\.yaml, a file hermes-fleet writes/,
  },
  {
    name: 'document key on a directory the fleet keeps',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          .hermes/memories: hi\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents[".hermes/memories"]',
    message: /a directory hermes-fleet keeps/,
  },
  {
    name: 'two document keys on one file',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          AGENTS.md: a\n          workspace/AGENTS.md: b\n',
    line: 7,
    keyPath: 'all.hosts.web1.hermes.documents["workspace/AGENTS.md"]',
    message: /both land on \/var\/lib\/hermes\/workspace\/AGENTS\.md/,
  },
  {
    name: "a document key that is another key's directory",
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          .hermes/notes: a\n          .hermes/notes/a.md: b\n',
    line: 7,
    keyPath: 'all.hosts.web1.hermes.documents[".hermes/notes/a.md"]',
    message: /\/var\/lib\/hermes\/\.hermes\/notes would be both a file and a directory/,
  },
  {
    name: "a document key on a plugin's link",
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          .hermes/plugins/fleet-managed-x: a\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents[".hermes/plugins/fleet-managed-x"]',
    message: /the name of a plugin's link/,
  },
  {
    name: 'document name ..',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          "..": hi\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents[".."]',
    message: /no empty, "\." or "\.\." component/,
  },
  {
    // A tab would reach the host's tab-separated request stream (an internal error there).
    name: 'document name with a tab',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          "A\\tB.md": hi\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents["A\\tB.md"]',
    message: /no newline, tab or NUL/,
  },
  {
    name: 'a missing container.imageArchive',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container:\n          enable: true\n          imageArchive: images/gone.tar\n',
    line: 7,
    keyPath: 'all.hosts.web1.hermes.container.imageArchive',
    message:
      /cannot use the image archive images\/gone.tar \(.*images\/gone.tar\): .*(no such file|not found)/i,
  },
  {
    name: 'a container.imageArchive that is no image archive',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container:\n          enable: true\n          imageArchive: hermes.tar\n',
    files: { 'hermes.tar': 'not a tar\n'.repeat(200) },
    line: 7,
    keyPath: 'all.hosts.web1.hermes.container.imageArchive',
    message: /cannot use the image archive hermes.tar .*tar cannot read it/,
  },
  {
    name: 'a container.imageArchive with another ending',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container:\n          imageArchive: hermes.tar.gz\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.container.imageArchive',
    message: /must be a file name ending in .tar/,
  },
  {
    name: 'relative stateDir',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        stateDir: var/lib/hermes\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.stateDir',
    message: /absolute path/,
  },
  {
    name: 'environmentFiles entry not absolute',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        environmentFiles:\n          - /etc/ok.env\n          - secrets.env\n',
    line: 7,
    keyPath: 'all.hosts.web1.hermes.environmentFiles[1]',
    message: /absolute path/,
  },
  {
    name: 'package path with a newline',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        package: "/opt/\\nhermes"\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.package',
    message: /without newline/,
  },
  {
    name: 'stateDir with a $ (a unit cannot carry it)',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        stateDir: /var/lib/$HOME\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.stateDir',
    message: /quote, backslash or \$/,
  },
  {
    name: 'workingDirectory with a double quote',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        workingDirectory: \'/srv/"work"\'\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.workingDirectory',
    message: /quote, backslash or \$/,
  },
  {
    name: 'package with a single quote',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        package: "/opt/it\'s"\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.package',
    message: /quote, backslash or \$/,
  },
  {
    name: 'package with a backslash',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        package: /opt/a\\b\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.package',
    message: /quote, backslash or \$/,
  },
  {
    name: 'stateDir with a control character',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        stateDir: "/var/lib/\\e[31m"\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.stateDir',
    message: /control character/,
  },
  {
    name: 'container image that would be read as an option',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container:\n          image: --privileged\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.container.image',
    message: /does not start with "-"/,
  },
  {
    name: 'container image with a space',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container:\n          image: "ubuntu -v /:/host"\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.container.image',
    message: /without spaces/,
  },
  {
    name: 'bad user name',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        user: Hermes\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.user',
    message: /system account name/,
  },
  {
    name: 'bad environment name',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        environment:\n          1ABC: x\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.environment.1ABC',
    message: /not a valid environment variable name/,
  },
  {
    name: 'environment value python-dotenv would expand',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        environment:\n          A: "x${HOME}"\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.environment.A',
    message: /\$\{…\} reference/,
  },
  {
    name: 'secret with two sources',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { env: A, file: b }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /exactly one of env, file or command/,
  },
  {
    name: 'secret value written inline',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: sk-live-inline-value\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /expected a map, got a string/,
    hint: /\{ env: VAR \}/,
    hidden: 'sk-live-inline-value',
  },
  {
    name: 'missing document file',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        documents:\n          USER.md: { file: docs/USER.md }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.documents["USER.md"]',
    message: /cannot read docs\/USER.md .*no such file/,
  },
  {
    name: 'missing configFile',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        configFile: config.yaml\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.configFile',
    message: /cannot read config.yaml/,
  },
  {
    name: 'missing authFile',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        authFile: auth.json\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.authFile',
    message: /cannot read the secret file auth.json/,
  },
  {
    name: 'missing secret file',
    yaml: 'all:\n  vars:\n    hermes:\n      secrets:\n        T: { file: t.token }\n  hosts:\n    web1:\n',
    line: 5,
    keyPath: 'all.vars.hermes.secrets.T',
    message: /cannot read the secret file t.token/,
  },
  {
    name: 'unset environment variable',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { env: NOT_SET_HERE }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /NOT_SET_HERE is not set/,
    hint: /export NOT_SET_HERE=/,
  },
  {
    name: 'empty secret (e.g. a CI secret that is not available)',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { command: "printf \'\'" }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /the secret from command printf '' is empty/,
  },
  {
    name: 'failing secret command: status and stderr, not stdout',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { command: "echo sk-leaked-stdout; echo vault sealed >&2; exit 3" }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /exited with status 3; its stderr:\n\s+vault sealed/,
    hidden: 'sk-leaked-stdout',
  },
  {
    name: 'failing secret command that echoes its value to stderr (set -x)',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { command: "set -x; v=sk-traced-value; printf \'%s\\\\nsecond-line\\\\n\' $v; printf \'%s\\\\n\' \\"$v\\" >&2; exit 4" }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /exited with status 4; its stderr:\n\s+\+ v=/,
    hidden: 'sk-traced-value',
  },
  {
    name: 'failing secret command that prints its whole multi-line value to stderr',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { command: "v=$(printf \'BEGIN KEY\\\\nc2VjcmV0LWtleQ==\\\\nEND KEY\'); echo \\"$v\\"; echo \\"bad: $v\\" >&2; exit 5" }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /exited with status 5; its stderr:\n\s+bad: /,
    hidden: 'c2VjcmV0LWtleQ==',
  },
  {
    name: 'secret value that .env cannot hold',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        secrets:\n          K: { command: "echo \'sk-${NOPE}-value\'" }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /cannot be written to .env/,
    hidden: 'sk-${NOPE}-value',
  },
  {
    name: 'key in both environment and secrets',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        environment: { K: a }\n        secrets:\n          K: { env: HOME }\n',
    env: { HOME: '/root' },
    line: 7,
    keyPath: 'all.hosts.web1.hermes.secrets.K',
    message: /both in environment and in secrets/,
  },
  {
    name: 'reversed range',
    yaml: 'all:\n  hosts:\n    web[05:01]:\n',
    line: 3,
    column: 5,
    keyPath: 'all.hosts["web[05:01]"]',
    message: /reversed/,
  },
  {
    name: 'empty range',
    yaml: 'all:\n  children:\n    g:\n      hosts:\n        web[]:\n',
    line: 5,
    keyPath: 'all.children.g.hosts["web[]"]',
    message: /must be \[start:end\]/,
  },
  {
    name: 'half-open range',
    yaml: 'all:\n  hosts:\n    web[1:]:\n',
    line: 3,
    keyPath: 'all.hosts["web[1:]"]',
    message: /must be \[start:end\]/,
  },
  {
    name: 'mixed range',
    yaml: 'all:\n  hosts:\n    web[1:c]:\n',
    line: 3,
    keyPath: 'all.hosts["web[1:c]"]',
    message: /two numbers .* or two letters/,
  },
  {
    name: 'no hosts',
    yaml: 'all:\n  vars:\n    ssh: { user: root }\n  children:\n    eu:\n',
    line: 1,
    keyPath: 'all',
    message: /has no hosts/,
  },
  {
    name: 'empty file',
    yaml: '# nothing\n',
    line: 0,
    keyPath: '',
    message: /the inventory is empty/,
  },
  {
    name: 'a name used for a group and a host',
    yaml: 'all:\n  hosts:\n    eu:\n  children:\n    eu:\n',
    line: 5,
    keyPath: 'all.children.eu',
    message: /already a host name/,
  },
  {
    name: 'MCP server with neither command nor url',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        mcpServers:\n          fs: { args: [a] }\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.mcpServers.fs',
    message: /needs a command .* or a url/,
  },
  {
    name: 'container volume without a container path',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container:\n          extraVolumes: [/srv/data]\n',
    line: 6,
    keyPath: 'all.hosts.web1.hermes.container.extraVolumes[0]',
    message: /host:container\[:mode\]/,
  },
  {
    name: 'container backend unknown',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        container: { backend: dokcer }\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.container.backend',
    message: /must be one of: docker, podman/,
    hint: /`docker`/,
  },
  {
    name: 'extraArgs entry with a newline',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        extraArgs: ["--a\\nb"]\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.extraArgs[0]',
    message: /must not contain a newline/,
  },
  {
    name: 'negative healthCheck seconds',
    yaml: 'all:\n  hosts:\n    web1:\n      hermes:\n        healthCheck: { seconds: -1 }\n',
    line: 5,
    keyPath: 'all.hosts.web1.hermes.healthCheck.seconds',
    message: /must be 0 or more/,
  },
  {
    name: 'malformed jump host',
    yaml: 'all:\n  hosts:\n    web1:\n      ssh: { jump: "a@b@c" }\n',
    line: 4,
    keyPath: 'all.hosts.web1.ssh.jump',
    message: /\[user@\]host\[:port\]/,
  },
  {
    name: 'group that contains itself',
    yaml: 'all:\n  children:\n    a:\n      children:\n        a:\n      hosts:\n        web1:\n',
    line: 5,
    keyPath: 'all.children.a.children.a',
    message: /child of itself/,
  },
];

describe('bad inventories: one message with file, line, column and key path', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const dir = fixtureDir({ 'inv.yaml': c.yaml, ...c.files });
      const file = join(dir, 'inv.yaml');
      const error = await loadInventory([file], { env: c.env ?? {} }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(UserError);
      const text = (error as UserError).format();
      const where = c.line === 0 ? `${file}: ` : `${file}:${c.line}:${c.column ?? ''}`;
      expect(text.startsWith(where), text).toBe(true);
      if (c.keyPath) expect(text).toContain(`: ${c.keyPath}: `);
      expect(text).toMatch(c.message);
      if (c.hint) expect(text).toMatch(c.hint);
      if (c.hidden) expect(text).not.toContain(c.hidden);
      expect(text).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});

describe('bad -e arguments', () => {
  const inventory = 'all:\n  hosts:\n    web1:\n';
  async function failure(extraVars: string[], files: Record<string, string> = {}) {
    const dir = fixtureDir({ 'inv.yaml': inventory, ...files });
    return loadInventory([join(dir, 'inv.yaml')], {
      env: {},
      cwd: dir,
      extraVars: extraVars.map((arg) => arg.replace('DIR', dir)),
    }).then(
      () => {
        throw new Error('expected a failure');
      },
      (err: unknown) => ({ text: (err as UserError).format(), dir }),
    );
  }

  it('wrong type', async () => {
    const { text } = await failure(['hermes.restartSec=soon']);
    expect(text).toBe('-e: hermes.restartSec: expected a number, got a string');
  });

  it('unknown key with a hint', async () => {
    const { text } = await failure(['hermes.setings.model=x']);
    expect(text).toContain('-e: hermes.setings: unknown key "setings"');
    expect(text).toContain('did you mean `settings`?');
  });

  it('neither key=value nor @file, without echoing the argument', async () => {
    const { text } = await failure(['sk-live-typed-by-mistake']);
    expect(text).toContain('-e argument 1 is neither key.path=value nor @file.yaml');
    expect(text).not.toContain('sk-live');
  });

  it('malformed key path', async () => {
    const { text } = await failure(['hermes..x=1']);
    expect(text).toContain('the key path is malformed');
  });

  it('an @file with a bad key, located in that file', async () => {
    const { text, dir } = await failure(['@DIR/over.yaml'], {
      'over.yaml': 'hermes:\n  restartSec: 1\n  documents:\n    a/../b: x\n',
    });
    expect(text).toContain(`${dir}/over.yaml:4:5: hermes.documents["a/../b"]: invalid name`);
  });

  it('an @file that does not exist', async () => {
    const { text } = await failure(['@DIR/missing.yaml']);
    expect(text).toMatch(/missing\.yaml: cannot read the file: no such file/);
  });
});
