import { spawn } from 'node:child_process';
import type { ExecOutcome, ExecRequest, Executor } from './executor.js';
import { writeStdin } from './write-stdin.js';

/** Runs command lines with the local /bin/sh: used to test the batch scripts without SSH. */
export const localExecutor: Executor = {
  exec(command: string, request: ExecRequest = {}): Promise<ExecOutcome> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        request.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, request.timeoutMs);
      const onInterrupt = () => child.kill('SIGINT');
      if (request.interrupt?.aborted) onInterrupt();
      request.interrupt?.addEventListener('abort', onInterrupt, { once: true });
      const keep = request.keepOutput !== false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (keep) out.push(chunk);
        request.onStdout?.(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (keep) err.push(chunk);
        request.onStderr?.(chunk);
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        request.interrupt?.removeEventListener('abort', onInterrupt);
        resolve({
          exitCode: code,
          ...(signal ? { signal } : {}),
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err),
          durationMs: Date.now() - started,
          timedOut,
        });
      });
      child.stdin.on('error', () => undefined);
      void writeStdin(child.stdin, request.stdin);
    });
  },
};
