// shellcheck on the host programs (`npm run lint:sh`): every .sh file under src/ and tasks/ on
// its own, and the joined programs apply.sh, read.sh and unlock.sh as they are sent (src/apply/program.ts,
// src/facts/program.ts). A part of a joined program reads and sets variables that other parts
// own (the fields parse sets, the batch's state), so on its own it is checked without SC2034
// (assigned, unused) and SC2154 (used, unassigned); the joined program is checked with every
// rule. Also checked here: every part ends with a newline (the join is a plain concatenation),
// and each program's FIELDS names the same variables as its fields_empty.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinedPrograms } from './host-programs.mjs';

const programs = await joinedPrograms();
const joined = {
  'apply.sh': programs.APPLY_SH,
  'read.sh': programs.READ_SH,
  'unlock.sh': programs.UNLOCK_SH,
};
const parts = new Set([...programs.APPLY_PARTS, ...programs.READ_PARTS, ...programs.UNLOCK_PARTS]);

const files = ['src', 'tasks']
  .flatMap((dir) => readdirSync(dir, { recursive: true }).map((name) => join(dir, name)))
  .filter((path) => path.endsWith('.sh'))
  .sort();
const partFiles = files.filter((path) => parts.has(readFileSync(path, 'utf8')));
const wholeFiles = files.filter((path) => !partFiles.includes(path));

const problems = [];
for (const part of parts) {
  if (!part.endsWith('\n'))
    problems.push(`a part does not end with a newline: ${part.slice(0, 80)}`);
}
if (partFiles.length !== parts.size) {
  problems.push(`${parts.size} parts are joined, but ${partFiles.length} files hold one`);
}
for (const [name, text] of Object.entries(joined)) {
  const listed = /^FIELDS='([^']*)'(?:\nFIELDS="\$FIELDS ([^"]*)")?$/m.exec(text);
  const emptied = /^fields_empty\(\) \{([^}]*)\}/m.exec(text);
  const names = (words) => [...new Set(words.split(/\s+/).filter(Boolean))].sort().join(' ');
  const inList = listed ? names(`${listed[1]} ${listed[2] ?? ''}`) : '';
  const inEmpty = emptied ? names(emptied[1].replace(/=''|;/g, ' ')) : '';
  if (!inList || inList !== inEmpty) {
    problems.push(`${name}: FIELDS (${inList}) and fields_empty (${inEmpty}) differ`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'hermes-fleet-lint-sh-'));
let failed = false;
const shellcheck = (args) => {
  try {
    execFileSync('shellcheck', ['--shell=sh', ...args], { stdio: 'inherit' });
  } catch {
    failed = true;
  }
};
try {
  const joinedFiles = Object.entries(joined).map(([name, text]) => {
    const path = join(dir, `joined-${name}`);
    writeFileSync(path, text);
    return path;
  });
  shellcheck([...wholeFiles, ...joinedFiles]);
  shellcheck(['--exclude=SC2034,SC2154', ...partFiles]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log(
  `shellcheck: ${wholeFiles.length} programs, ${Object.keys(joined).length} joined programs, ${partFiles.length} parts`,
);
