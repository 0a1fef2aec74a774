import { describe, expect, it } from 'vitest';
import { envAfter, expectNoSecret, sampleRun } from './fixtures.js';

describe('report fixtures', () => {
  it('hold secrets only inside Secret objects', () => {
    expectNoSecret(JSON.stringify(sampleRun()));
    expect(envAfter.reveal()).toContain('SECRET-MULTI-LINE');
  });
});
