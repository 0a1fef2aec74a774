import { describe, expect, it } from 'vitest';
import { envAfter, expectNoSecret, sampleRun } from './run-results.js';

describe('the run results the report tests share', () => {
  it('hold secrets only inside Secret objects', () => {
    expectNoSecret(JSON.stringify(sampleRun()));
    expect(envAfter.reveal()).toContain('SECRET-MULTI-LINE');
  });
});
