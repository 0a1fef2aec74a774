// The test image has neither curl nor wget (a minimal Debian). For the tests of
// `hermes.release.url`, a host gets this machine's own program (the same Debian release as the
// image) with the shared libraries the image lacks, copied in over SSH: a real curl or wget, no
// stand-in.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Fleet } from '../fleet/fleet.js';

/** The program and the libraries it loads, as this machine's dynamic linker resolves them. */
function filesOf(program: string): string[] {
  const ldd = execFileSync('ldd', [program], { encoding: 'utf8' });
  const libs = [...ldd.matchAll(/=> (\/\S+)/g)].map((m) => m[1] ?? '').filter(Boolean);
  return [program, ...libs];
}

/** Copies /usr/bin/PROGRAM and the libraries host `i` does not have yet to the same paths. */
export async function installFetcher(
  fleet: Fleet,
  i: number,
  program: 'curl' | 'wget',
): Promise<void> {
  for (const file of filesOf(`/usr/bin/${program}`)) {
    const has = await fleet.ssh(i, `test -e '${file}'`);
    if (has.code === 0 && !file.endsWith(`/${program}`)) continue;
    const put = await fleet.ssh(i, `base64 -d > '${file}' && chmod 0755 '${file}'`, {
      input: readFileSync(file).toString('base64'),
    });
    if (put.code !== 0) throw new Error(`copying ${file} to host ${i}: ${put.stderr}`);
  }
  const works = await fleet.ssh(i, `${program} --version`);
  if (works.code !== 0) throw new Error(`${program} does not run on host ${i}: ${works.stderr}`);
}
