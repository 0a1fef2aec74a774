/**
 * The differential suite: generated Ansible inventories read by hermes-fleet and by the real
 * `ansible-inventory` (Debian's ansible-core, installed by test/provision.sh) must give the same
 * hosts, the same groups, every variable of every host the same, and `--limit` patterns the
 * same hosts as `ansible --list-hosts`. Skipped (loudly) only where ansible-inventory is
 * missing; under CI (HERMES_FLEET_E2E=required or CI set) a missing ansible-core fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readAnsibleInventory } from './ansible-sources.js';
import { selectHosts } from './limit.js';
import { loadInventory } from './load.js';
import { literalEval, NOT_A_LITERAL } from './python-literal.js';
import { shlexSplit } from './shlex.js';

const run = promisify(execFile);

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const haveAnsible = has('ansible-inventory') && has('ansible');
const required = process.env.HERMES_FLEET_E2E === 'required' || Boolean(process.env.CI);
if (!haveAnsible) {
  const line = 'ansible-inventory is not installed: the Ansible differential suite is SKIPPED';
  if (required) throw new Error(`${line}, and CI requires it (apt-get install ansible-core)`);
  console.warn(
    `\n!!!! ${line} (apt-get install ansible-core, or bash test/provision.sh as root)\n`,
  );
}

/** One generated inventory: its files, the -i sources, and the patterns to compare. */
interface Case {
  name: string;
  files: Record<string, string | { script: string }>;
  sources: string[];
  patterns: string[];
  /** For `--list` JSON read as a file: Ansible reads it through a script that prints it. */
  ansibleSources?: string[];
}

const root = mkdtempSync(path.join(tmpdir(), 'hermes-fleet-ansible-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const CASES: Case[] = [
  {
    name: 'INI: groups, children, vars, ungrouped, inline values typed by literal_eval',
    files: {
      'hosts.ini': [
        '# a comment',
        '; another',
        'lonely.example.com  x=1 note="two words"',
        '10.0.0.9',
        '[web]',
        'web1 ansible_host=192.0.2.1 a="[1, 2]" b=True c=true d=0x10 e=\'{"k": 1, "l": [1]}\' f=01 g=1.5 h=-3 i=None j=\'"quoted"\' k=1_000 l=(1,2) m=yes #tail',
        "web2 ansible_port=2222 s=a\\ b t='' u=1e3 v=0o17 w=\"it's\"",
        '[db]',
        'db1',
        'web1 extra=from_db',
        '[db:vars]',
        'x = "spaced value"',
        'y=[1, "a"]',
        'z=plain text # not a comment here',
        'q=True',
        '[prod:children]',
        'web',
        'db',
        '[prod:vars]',
        "env='prod'",
        '[all:vars]',
        'ansible_user=deploy',
        'x=from_all',
        '[empty]',
      ].join('\n'),
    },
    sources: ['hosts.ini'],
    patterns: ['web', 'prod:!db', 'ungrouped', 'web:&db', 'all', '*.example.com', '~web[12]'],
  },
  {
    name: 'INI: ranges [01:10], [a:c], [1:10:2], several in one name, ports',
    files: {
      hosts: [
        '[web]',
        'web[01:10]',
        'db-[a:c]:2200 role=db',
        'n[1:10:2].example.org',
        'r[1:2]-n[a:b]',
        'up[A:C]',
        'z[:3]',
        '[edge]',
        'edge[08:11]:2222 ansible_user=edge',
        '192.0.2.[1:3]',
      ].join('\n'),
    },
    sources: ['hosts'],
    patterns: [
      'web',
      'web0*',
      'edge:web[0-1]*',
      '!web',
      'db-?',
      '~^r1',
      'web[3]',
      'edge[1:]',
      'web*[0]',
    ],
  },
  {
    name: 'INI: precedence: depth, ansible_group_priority, siblings alphabetical, host wins, dicts replaced',
    files: {
      'inv.ini': [
        '[zeta]',
        "h1 own=host cfg=\"{'from': 'host'}\"",
        'h2',
        'h3',
        '[alpha]',
        'h1',
        'h2',
        '[mid]',
        'h3',
        '[zeta:vars]',
        'v=zeta',
        's=zeta',
        'cfg={"from": "zeta", "deep": {"a": 1}}',
        '[alpha:vars]',
        'v=alpha',
        's=alpha',
        'cfg={"from": "alpha", "other": 2}',
        'p=alpha',
        '[parent:children]',
        'zeta',
        '[parent:vars]',
        'v=parent',
        'depthwin=parent',
        '[top:children]',
        'parent',
        'mid',
        '[top:vars]',
        'depthwin=top',
        '[mid:vars]',
        'ansible_group_priority=10',
        'p=mid',
        's=mid',
        '[heavy]',
        'h2',
        '[heavy:vars]',
        'ansible_group_priority=5',
        's=heavy',
        'v=heavy',
      ].join('\n'),
    },
    sources: ['inv.ini'],
    patterns: ['top', 'zeta:&alpha', 'parent:!h1'],
  },
  {
    name: 'group_vars/host_vars files: .yml, .yaml, .json, no extension; first match only',
    files: {
      'hosts.ini': '[web]\nw1\nw2 inline=host\n[db]\nd1\n[web:vars]\ninline=group\nfromini=1\n',
      'group_vars/all.yml': 'common: yes\nshared: all\ninline: from_all_file\nnum: 0755\n',
      'group_vars/web.yaml': 'shared: web\nlist: [1, 2]\nfromini: 2\n',
      'group_vars/web.json': '{"never": "read: web.yaml comes first"}',
      'group_vars/db': 'shared: db\nwhen: 2024-01-02\n',
      'host_vars/w1.json': '{"shared": "w1", "nested": {"a": 1}}',
      'host_vars/d1.yml': '---\nshared: d1\noff: off\n',
      'host_vars/w2.yml': '# only a comment\n',
    },
    sources: ['hosts.ini'],
    patterns: ['web', 'all:!db'],
  },
  {
    name: 'group_vars as directories: sorted, recursive, hidden, backups and other extensions skipped',
    files: {
      'hosts.yml':
        'all:\n  children:\n    web:\n      hosts:\n        w1:\n        w2:\n    db:\n      hosts:\n        d1:\n',
      'group_vars/web/01-base.yml': 'a: base\nb: base\nc: base\n',
      'group_vars/web/02-over.yaml': 'b: over\n',
      'group_vars/web/sub/03.json': '{"c": "sub"}',
      'group_vars/web/.hidden.yml': 'a: hidden\n',
      'group_vars/web/04.yml~': 'a: backup\n',
      'group_vars/web/05.txt': 'a: text\n',
      'group_vars/web/06': 'd: noext\n',
      'group_vars/web.yml': 'a: never (the directory comes first)\n',
      'group_vars/all/main.yml': 'a: all\nz: all\n',
      'host_vars/d1/vars.yml': 'z: d1\n',
    },
    sources: ['hosts.yml'],
    patterns: ['web', 'd*'],
  },
  {
    name: 'group_vars/all and group_vars files win over the inventory file vars',
    files: {
      hosts:
        '[web]\nw1\n[web:vars]\nx=ini_web\ny=ini_web\n[all:vars]\nx=ini_all\nz=ini_all\n[db]\nd1\n',
      'group_vars/all.yml': 'x: file_all\n',
      'group_vars/web.yml': 'y: file_web\n',
    },
    sources: ['hosts'],
    patterns: ['all'],
  },
  {
    name: 'Ansible YAML: all/children/hosts/vars, YAML 1.1 values, ports, a host in two groups',
    files: {
      'inv.yaml': [
        'all:',
        '  vars:',
        '    ansible_user: admin',
        '    flag: yes',
        '    mode: 0644',
        '    dict: { a: 1, b: { c: 2 } }',
        '  hosts:',
        '    bastion.example.com:',
        '  children:',
        '    web:',
        '      hosts:',
        '        web[01:03]:',
        '          http_port: 8080',
        '        web-special:2222:',
        '          ansible_host: 192.0.2.50',
        '      vars:',
        '        dict: { a: 2 }',
        '      children:',
        '        canary:',
        '          hosts:',
        '            web01:',
        '              canary: true',
        '          vars:',
        '            ansible_group_priority: 3',
        '            level: canary',
        '    db:',
        '      hosts:',
        '        db1: { ansible_port: 5432 }',
        '        web02:',
        'other:',
        '  hosts:',
        '    o1:',
        '  vars:',
        '    level: other',
      ].join('\n'),
    },
    sources: ['inv.yaml'],
    patterns: ['web', 'canary', 'web:&db', 'other:web01', '!db'],
  },
  {
    name: 'an inventory directory: every file merged in name order, ignored names skipped',
    files: {
      'inv/01-base': '[web]\nw1\nw2\n[web:vars]\norder=base\n',
      'inv/02-more.yml':
        'web:\n  hosts:\n    w3:\n  vars:\n    order: yaml\ndb:\n  hosts:\n    d1:\n',
      'inv/03-skipped.ini': '[ignored]\nnever-an-ini\n',
      'inv/README.md': '# not an inventory\n',
      'inv/notes.txt': 'nothing\n',
      'inv/.hidden': '[hidden]\nnever-hidden\n',
      'inv/old.bak': '[bak]\nnever-bak\n',
      'inv/sub/04-deeper': '[deep]\nd2\n[deep:vars]\norder=deep\n',
      'inv/group_vars/web.yml': 'gv: web\n',
      'inv/host_vars/d2.yml': 'hv: d2\n',
    },
    sources: ['inv'],
    patterns: ['web', 'deep:db', 'all:!w*'],
  },
  {
    name: 'an inventory script with _meta.hostvars',
    files: {
      'dyn.py': {
        script: [
          '#!/usr/bin/env python3',
          'import json, sys',
          'if sys.argv[1:] == ["--list"]:',
          '    print(json.dumps({',
          '        "_meta": {"hostvars": {"a1": {"ansible_host": "192.0.2.1", "tags": {"t": 1}}, "b1": {"x": 2}}},',
          '        "all": {"vars": {"region": "eu"}},',
          '        "app": {"hosts": ["a1", "a2"], "vars": {"role": "app"}, "children": ["backend"]},',
          '        "backend": ["b1"],',
          '        "empty": {"hosts": []},',
          '    }))',
          'else:',
          '    print("{}")',
        ].join('\n'),
      },
      'group_vars/backend.yml': 'role: backend\n',
    },
    sources: ['dyn.py'],
    patterns: ['app', 'backend', 'all:!a2'],
  },
  {
    name: 'an inventory script without _meta: one --host call per host',
    files: {
      'old.sh': {
        script: [
          '#!/bin/sh',
          'case "$1" in',
          '--list) echo \'{"web": {"hosts": ["w1", "w2"], "vars": {"v": "group"}}, "solo": ["s1"]}\' ;;',
          '--host) case "$2" in w1) echo \'{"v": "host-w1", "n": 1}\' ;; *) echo \'{}\' ;; esac ;;',
          'esac',
        ].join('\n'),
      },
    },
    sources: ['old.sh'],
    patterns: ['web', 'solo:w1'],
  },
  {
    name: 'the --list JSON of ansible-inventory saved to a file',
    files: {
      'saved.json': JSON.stringify({
        _meta: {
          hostvars: {
            n1: { ansible_host: '192.0.2.7', ansible_user: 'ubuntu', hermes: { user: 'agent' } },
            n2: { ansible_port: 2201 },
          },
        },
        all: { children: ['ungrouped', 'nodes'] },
        nodes: { hosts: ['n1', 'n2'], vars: { tier: 'nodes' } },
        ungrouped: { hosts: ['n3'] },
      }),
      'cat.sh': { script: '#!/bin/sh\ncat "$(dirname "$0")/saved.json"\n' },
    },
    sources: ['saved.json'],
    ansibleSources: ['cat.sh'],
    patterns: ['nodes', 'ungrouped', 'n*'],
  },
  {
    name: 'several sources, each with its own group_vars, later ones adding to the same groups',
    files: {
      'a/hosts.ini': '[web]\nw1\n[web:vars]\nsrc=a\n',
      'a/group_vars/web.yml': 'file_a: 1\nboth: a\n',
      'b/hosts.yml': 'web:\n  hosts:\n    w2:\n  vars:\n    src: b\n',
      'b/group_vars/web.yml': 'file_b: 1\nboth: b\n',
      'b/host_vars/w1.yml': 'from_b: yes\n',
    },
    sources: ['a/hosts.ini', 'b/hosts.yml'],
    patterns: ['web', 'w1:w2'],
  },
  {
    name: 'diamond groups at different depths, the hermes variable replaced whole',
    files: {
      'hosts.ini': [
        '[leaf]',
        'h1',
        '[left:children]',
        'leaf',
        '[right:children]',
        'leaf',
        '[deep:children]',
        'left',
        '[left:vars]',
        'hermes={"settings": {"model": "left"}, "restart": "always"}',
        '[right:vars]',
        'hermes={"settings": {"model": "right"}}',
        '[deep:vars]',
        'hermes={"settings": {"model": "deep"}, "restartSec": 9}',
        'ansible_become=yes',
        'ansible_become_method=sudo',
        '[leaf:vars]',
        "ansible_ssh_common_args='-o ProxyJump=jump@192.0.2.99:2222'",
      ].join('\n'),
      'host_vars/h1.yml': 'ansible_python_interpreter: /usr/bin/python3\n',
    },
    sources: ['hosts.ini'],
    patterns: ['leaf', 'deep:&right'],
  },
  {
    name: 'YAML: string hosts, empty groups and children, ranges with steps, numbers as names',
    files: {
      'inv.yml': [
        'all:',
        '  children:',
        '    single:',
        '      hosts: only1',
        '    stepped:',
        '      hosts:',
        '        s[0:20:5]:',
        '        "42":',
        '    nothing:',
        '    parent:',
        '      children:',
        '        stepped:',
        '        single:',
        '      vars:',
        '        on_parent: [a, b]',
      ].join('\n'),
    },
    sources: ['inv.yml'],
    patterns: ['parent', 'stepped:!s5', 's1*'],
  },
  {
    name: 'INI: children declared before their groups, a host listed twice, vars before hosts',
    files: {
      'hosts.ini': [
        '[top:children]',
        'later',
        'other',
        '[later:vars]',
        'v=later',
        '[later]',
        'h1 v=first own=1',
        'h2',
        '[other]',
        'h1 v=second',
        '[other:children]',
        'leaf',
        '[leaf]',
        'h3:2201 v=leaf',
        'h3:2202',
        '[top:vars]',
        'v=top',
        "deep=\"{'a': {'b': 1}}\"",
      ].join('\n'),
    },
    sources: ['hosts.ini'],
    patterns: [
      'top',
      'other:!leaf',
      'top[0]',
      'top[1:2]',
      'other[-1]',
      'later[0:]',
      'top[1:0]',
      '~h',
    ],
  },
];

function writeCase(index: number, testCase: Case): string {
  const dir = path.join(root, String(index));
  for (const [name, content] of Object.entries(testCase.files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof content === 'string') writeFileSync(file, content);
    else {
      writeFileSync(file, content.script);
      chmodSync(file, 0o755);
    }
  }
  return dir;
}

/** ansible-inventory in an empty directory, with no ansible.cfg to change its defaults. */
async function ansible(dir: string, command: string, args: string[]): Promise<string> {
  const cwd = path.join(dir, '.cwd');
  mkdirSync(cwd, { recursive: true });
  const { stdout } = await run(command, args, {
    cwd,
    env: {
      ...process.env,
      ANSIBLE_CONFIG: path.join(cwd, 'none.cfg'),
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
      ANSIBLE_NOCOLOR: '1',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** The Python that runs ansible (its shebang), so its modules import. */
function ansiblePython(): string {
  const ansiblePath = execFileSync('sh', ['-c', 'command -v ansible']).toString().trim();
  const shebang = /^#!\s*(\S+)/.exec(readFileSync(ansiblePath, 'utf8'))?.[1];
  return shebang ?? 'python3';
}

const LIST_HOSTS = [
  'import json, sys',
  'from ansible.parsing.dataloader import DataLoader',
  'from ansible.inventory.manager import InventoryManager',
  'sources, patterns = json.load(sys.stdin)',
  'inventory = InventoryManager(loader=DataLoader(), sources=sources)',
  'print(json.dumps({p: [h.name for h in inventory.list_hosts(p)] for p in patterns}))',
].join('\n');

async function listHosts(
  dir: string,
  sources: string[],
  patterns: string[],
): Promise<Record<string, string[]>> {
  const cwd = path.join(dir, '.cwd');
  const child = execFile(ansiblePython(), ['-c', LIST_HOSTS], {
    cwd,
    env: { ...process.env, ANSIBLE_CONFIG: path.join(cwd, 'none.cfg') },
  });
  child.stdin?.end(JSON.stringify([sources, patterns]));
  let out = '';
  child.stdout?.on('data', (chunk: string) => (out += chunk));
  await new Promise<void>((resolve, reject) => {
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`list_hosts failed (${String(code)})`));
    });
  });
  return JSON.parse(out) as Record<string, string[]>;
}

interface ListGroup {
  hosts?: string[];
  children?: string[];
  vars?: Record<string, unknown>;
  hostvars?: Record<string, Record<string, unknown>>;
}
type ListJson = Record<string, ListGroup>;

const sorted = (values: Iterable<string>) => [...values].sort();

describe.skipIf(!haveAnsible)('Ansible inventories read as ansible-inventory reads them', () => {
  it('has at least 12 generated inventories', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(12);
  });

  for (const [index, testCase] of CASES.entries()) {
    it.concurrent(testCase.name, { timeout: 120_000 }, async ({ expect }) => {
      const dir = writeCase(index, testCase);
      const ours = testCase.sources.map((source) => path.join(dir, source));
      const theirSources = (testCase.ansibleSources ?? testCase.sources).map((source) =>
        path.join(dir, source),
      );
      const theirs = theirSources.flatMap((source) => ['-i', source]);
      const inventory = await readAnsibleInventory(ours);
      const first = inventory.hosts[0];
      const firstPattern = testCase.patterns[0] ?? 'all';
      // Every Ansible run at once: each is a Python start-up, most of the time spent here.
      const [exported, resolved, hostOut, cli, listed] = await Promise.all([
        ansible(dir, 'ansible-inventory', [...theirs, '--list', '--export']).then(
          (out) => JSON.parse(out) as ListJson,
        ),
        ansible(dir, 'ansible-inventory', [...theirs, '--list']).then(
          (out) => JSON.parse(out) as ListJson,
        ),
        ansible(dir, 'ansible-inventory', [...theirs, '--host', first?.name ?? 'none']),
        ansible(dir, 'ansible', [...theirs, firstPattern, '--list-hosts']),
        listHosts(dir, theirSources, testCase.patterns),
      ]);

      // The hosts: every host some group lists.
      const theirHosts = new Set<string>();
      for (const [group, entry] of Object.entries(exported)) {
        if (group === '_meta') continue;
        for (const host of entry.hosts ?? []) theirHosts.add(host);
      }
      expect(sorted(inventory.hosts.map((h) => h.name))).toEqual(sorted(theirHosts));

      // The groups: each one's direct hosts and children.
      for (const [group, entry] of Object.entries(exported)) {
        if (group === '_meta') continue;
        expect(sorted(inventory.children.get(group) ?? []), `children of ${group}`).toEqual(
          sorted(entry.children ?? []),
        );
        expect(sorted(inventory.direct.get(group) ?? []), `hosts of ${group}`).toEqual(
          sorted(entry.hosts ?? []),
        );
      }
      for (const [group, children] of inventory.children) {
        const direct = inventory.direct.get(group) ?? [];
        if (children.length > 0 || direct.length > 0) {
          expect(Object.keys(exported), `group ${group}`).toContain(group);
        }
      }

      // Every variable of every host, resolved.
      for (const host of inventory.hosts) {
        const vars = Object.fromEntries([...host.vars].map(([k, v]) => [k, v.value]));
        expect(vars, `variables of ${host.name}`).toEqual(
          resolved._meta?.hostvars?.[host.name] ?? {},
        );
      }

      // --host, for the first host, as the other protocol.
      expect(first).toBeDefined();
      expect(Object.fromEntries([...(first?.vars ?? [])].map(([k, v]) => [k, v.value]))).toEqual(
        JSON.parse(hostOut) as unknown,
      );

      // --limit patterns, through the real load path. The first through `ansible --list-hosts`
      // itself; all of them through the same call it makes (InventoryManager.list_hosts), in one
      // Python process, which must agree with the command on the first.
      const loaded = await loadInventory(ours, { resolveSecrets: false, warn: () => {} });
      const listedByCli = cli
        .split('\n')
        .slice(1)
        .map((line) => line.trim())
        .filter((line) => line !== '');
      expect(sorted(listed[firstPattern] ?? [])).toEqual(sorted(listedByCli));
      for (const pattern of testCase.patterns) {
        const selected = selectHosts(loaded, pattern).map((host) => host.name);
        expect(sorted(selected), `--limit ${pattern}`).toEqual(sorted(listed[pattern] ?? []));
      }
    });
  }
});

const havePython = has('python3');

describe.skipIf(!havePython)("INI values typed as Python's ast.literal_eval types them", () => {
  const samples = [
    '1',
    '-1',
    '+2',
    '--1',
    '01',
    '00',
    '0x1F',
    '0o17',
    '0b101',
    '1_000',
    '1__0',
    '1.5',
    '.5',
    '5.',
    '1e3',
    '1E-2',
    '1j',
    'True',
    'False',
    'None',
    'true',
    'yes',
    'null',
    '-True',
    '"a"',
    "'b'",
    '"a" "b"',
    "r'\\n'",
    "'\\n\\t\\x41\\u00e9'",
    "b'bytes'",
    "f'x'",
    "'unclosed",
    '[1, 2]',
    '[1, [2, 3], "x"]',
    '[]',
    '[1,]',
    '(1, 2)',
    '()',
    '(1)',
    '(1,)',
    '1, 2',
    '{"a": 1}',
    "{'a': {'b': [1]}}",
    '{}',
    '{1: 2}',
    '{True: 1}',
    '{1, 2}',
    '{"a": 1,}',
    'foo',
    'foo bar',
    'a=b',
    '1.2.3',
    '192.0.2.1',
    '2024-01-01',
    '$HOME',
    '[1, 2',
    '# c',
    'a.b',
    'a-b',
    'True-1',
    'True.real',
    'x:y',
    'a/b',
    'inf',
    'nan',
    '10.0.0.1-x',
    'web-01',
    '0',
    '7',
    '1.2',
    '1_',
    '_1',
    'a b',
    'None-1',
    '1 # comment',
    '  7',
    '[1,\n2]',
    '"tab\there"',
    "'it''s'",
    '1 2',
    '-',
    '',
  ];
  it('agrees with python3 on every sample', () => {
    const script = [
      'import ast, json, sys',
      'out = []',
      'for s in json.load(sys.stdin):',
      '    try:',
      '        v = ast.literal_eval(s)',
      '        if isinstance(v, tuple): v = list(v)',
      '        if isinstance(v, bytes): v = v.decode()',
      '        json.dumps(v)',
      '        out.append({"value": v})',
      '    except Exception:',
      '        out.append({"text": s})',
      'print(json.dumps(out, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))',
    ].join('\n');
    const python = JSON.parse(
      execFileSync('python3', ['-W', 'ignore', '-c', script], {
        input: JSON.stringify(samples),
      }).toString(),
    ) as ({ value: unknown } | { text: string })[];
    const ours = samples.map((s) => {
      const value = literalEval(s);
      return value === NOT_A_LITERAL
        ? { text: s }
        : { value: JSON.parse(JSON.stringify(value)) as unknown };
    });
    expect(ours).toEqual(python);
  });

  it('cuts host lines as shlex.split(comments=True) does', () => {
    const lines = [
      'web1 a=1 b="two words" c=\'single "q"\'',
      'h a=b#c d=e',
      'h x="esc \\" q" y=back\\ slash z="keep \\n"',
      'h "" e=',
      'h # all comment',
    ];
    const script =
      'import json, shlex, sys\nprint(json.dumps([shlex.split(l, comments=True) for l in json.load(sys.stdin)]))';
    const python = JSON.parse(
      execFileSync('python3', ['-c', script], { input: JSON.stringify(lines) }).toString(),
    ) as string[][];
    expect(lines.map((line) => shlexSplit(line))).toEqual(python);
  });
});
