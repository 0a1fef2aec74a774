import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/secret.js';

describe('Secret', () => {
  const secret = new Secret('sk-live-123', 'env API_KEY');
  it('never renders its value by accident', () => {
    expect(String(secret)).toBe('***');
    expect(secret.toString()).toBe('***');
    expect(JSON.stringify({ secret })).toBe('{"secret":"***"}');
    expect(inspect(secret)).not.toContain('sk-live');
    expect(inspect({ nested: [secret] })).not.toContain('sk-live');
  });
  it('reveals only on purpose', () => {
    expect(secret.reveal()).toBe('sk-live-123');
    expect(secret.equals('sk-live-123')).toBe(true);
  });
});
