import { describe, expect, it } from 'vitest';
import { lostReason } from './connection.js';

describe('lostReason', () => {
  it('says who closed the connection, or that keepalives went unanswered', () => {
    expect(lostReason(undefined)).toMatch(/the host closed the connection/);
    expect(lostReason(new Error('Keepalive timeout'))).toBe(
      'no answer to 3 keepalives in 20 s (the host is down or the network between is)',
    );
    expect(lostReason(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      'connection reset by the host',
    );
    expect(lostReason(new Error('something else'))).toBe('something else');
  });
});
