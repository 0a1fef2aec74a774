import { describe, expect, it } from 'vitest';
import {
  IDENTITY_SCHEMA,
  describeIdentityChange,
  identityHash,
  identityInputs,
  parseIdentity,
  renderIdentity,
} from './container-identity.js';
import { defaultHermes } from '../../test/utils/host.js';

const base = defaultHermes();
const inputs = identityInputs(base);

describe('container identity', () => {
  it('records the hash first, then the inputs, and reads both back', () => {
    const text = renderIdentity(inputs);
    const [first, ...rest] = text.split('\n');
    expect(first).toBe(identityHash(inputs));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(rest.length).toBeGreaterThan(5); // one input per line: --diff shows which changed
    expect(parseIdentity(text)).toEqual({ hash: identityHash(inputs), inputs });
  });

  it('reads a file with only a hash (schema 1) or garbage without failing', () => {
    expect(parseIdentity('abc\n')).toEqual({ hash: 'abc' });
    expect(parseIdentity('')).toEqual({ hash: '' });
    expect(parseIdentity('abc\n[1, 2]\n')).toEqual({ hash: 'abc' });
  });

  it('names the inputs that changed, with values for single values only', () => {
    const recorded = parseIdentity(renderIdentity(inputs));
    const other = identityInputs({
      ...base,
      user: 'agent',
      container: { ...base.container, image: 'debian:12', extraOptions: ['--env=TOKEN=s3cret'] },
    });
    const text = describeIdentityChange(recorded, other);
    expect(text).toBe(
      'container.image ubuntu:24.04 → debian:12, container.extraOptions changed, user hermes → agent',
    );
    expect(text).not.toContain('s3cret');
  });

  it('says why when nothing can be compared', () => {
    expect(describeIdentityChange(undefined, inputs)).toBe('no identity was recorded for it');
    expect(describeIdentityChange({ hash: 'abc' }, inputs)).toBe(
      'its recorded identity names no inputs',
    );
    expect(describeIdentityChange({ hash: 'abc', inputs: { ...inputs } }, inputs)).toBe(
      'its recorded identity does not match its inputs',
    );
    expect(describeIdentityChange({ hash: 'x', inputs: { ...inputs, schema: 1 } }, inputs)).toBe(
      `hermes-fleet's container layout changed (schema 1 → ${IDENTITY_SCHEMA})`,
    );
  });

  it('ignores what only needs a restart', () => {
    const h = { ...base, environment: { A: 'b' }, settings: { model: 'x' }, restartSec: 9 };
    expect(identityHash(identityInputs(h))).toBe(identityHash(inputs));
  });
});
