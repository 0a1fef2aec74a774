// Debian's headless chromium (test/provision.sh installs it), for the HTML report's test and
// benchmark: the DOM after the page's script ran, and screenshots. Each call starts a browser
// with a fresh profile, as root (hence --no-sandbox), with nothing that reaches the network.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function chromium(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'hermes-fleet-chromium-'));
  return new Promise((resolve, reject) => {
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve(stdout);
      else reject(new Error(`chromium exited ${code ?? 'by a signal'}: ${stderr.slice(-2000)}`));
    });
  });
}

/** The page's DOM once loaded and its script has run; `hash` (without #) sets its view. */
export function renderedDom(file: string, hash = ''): Promise<string> {
  const url = pathToFileURL(file).href + (hash ? `#${hash}` : '');
  return chromium(['--virtual-time-budget=2000', '--dump-dom', url]);
}

/** A PNG of the page, `width`×`height` CSS pixels. */
export async function screenshot(
  file: string,
  png: string,
  size: { width: number; height: number } = { width: 1400, height: 1000 },
): Promise<void> {
  await chromium([
    '--hide-scrollbars',
    `--window-size=${size.width},${size.height}`,
    `--screenshot=${png}`,
    pathToFileURL(file).href,
  ]);
}
