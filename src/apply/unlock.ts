import type { Executor } from '../exec/executor.js';
import { compactProgram } from '../exec/host-program.js';
import { namedLine } from '../exec/line-field.js';
import { UNLOCK_SH } from './program.js';

const UNLOCK_PROGRAM = compactProgram(UNLOCK_SH);

/**
 * What `unlock` found and did: the lock was `free`; its file named a holder that is gone and
 * was `cleared`; the batch holding it was interrupted and `stopped`; or it is still `held` after
 * the wait. `holder` is the lock file as found (key=value lines).
 */
export interface UnlockOutcome {
  state: 'free' | 'cleared' | 'stopped' | 'held';
  holder: string;
}

/** One round trip: src/apply/unlock.sh on the host, as root. */
export async function unlockHost(
  executor: Executor,
  options: { path: string; waitSeconds: number; commandLine: (script: string) => string },
): Promise<UnlockOutcome> {
  const stdin = namedLine(
    0,
    'unlock',
    { path: options.path, seconds: Math.ceil(options.waitSeconds) },
    'unlock request',
  );
  const result = await executor.exec(options.commandLine(UNLOCK_PROGRAM), {
    stdin,
    timeoutMs: 30_000 + options.waitSeconds * 1000,
  });
  const line = result.stdout
    .toString('utf8')
    .split('\n')
    .find((l) => l.startsWith('unlock\t'));
  const [, state = '', holder = ''] = (line ?? '').split('\t');
  if (state !== 'free' && state !== 'cleared' && state !== 'stopped' && state !== 'held') {
    const stderr = result.stderr.toString('utf8').trim();
    throw new Error(
      `unlock did not answer (exit code ${result.exitCode ?? 'none'})${stderr ? `: ${stderr}` : ''}`,
    );
  }
  return { state, holder: Buffer.from(holder, 'base64').toString('utf8') };
}
