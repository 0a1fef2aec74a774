import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { Secret } from '../../src/secret.js';
import { fileSecret, fileText, groupFact, pathFact, unitFact, userFact } from './facts-access.js';
import { bare, file, makeFacts } from '../../test/utils/facts.js';

const attrs = { mode: 0o640, user: 'hermes', group: 'hermes' };

describe('facts access', () => {
  it('throws InternalError for anything that was not requested', () => {
    const facts = makeFacts();
    expect(() => pathFact(facts, '/x')).toThrow(InternalError);
    expect(() => userFact(facts, 'hermes')).toThrow(InternalError);
    expect(() => groupFact(facts, 'hermes')).toThrow(InternalError);
    expect(() => unitFact(facts, 'x.service')).toThrow(InternalError);
  });
  it('tells a missing user (null) from an unrequested one', () => {
    const facts = makeFacts({ users: { hermes: null } });
    expect(userFact(facts, 'hermes')).toBeNull();
  });
  it('insists that content was requested in the form it is read', () => {
    const plain = file('text', attrs);
    const secret = file(new Secret('s', 'test'), attrs);
    if (plain.kind !== 'file' || secret.kind !== 'file') throw new Error('fixture');
    expect(fileText(plain, '/a')).toBe('text');
    expect(() => fileSecret(plain, '/a')).toThrow(InternalError);
    expect(fileSecret(secret, '/b').reveal()).toBe('s');
    expect(() => fileText(secret, '/b')).toThrow(InternalError);
    const statOnly = bare(attrs);
    if (statOnly.kind !== 'file') throw new Error('fixture');
    expect(() => fileText(statOnly, '/c')).toThrow(InternalError);
  });
});
