import { describe, expect, it } from 'vitest';
import { HostReadError, parseFacts } from './gather.js';
import type { FactRequest } from './types.js';

const requests: FactRequest[] = [
  { kind: 'lock', path: '/var/lib/hermes-fleet/lock' },
  { kind: 'path', path: '/h/config.yaml', content: true },
];
const holder = Buffer.from('who=bob@ci\ncommand=hermes-fleet run\n').toString('base64');

function output(after: string, file = '1\tfile\t640 0 0 root root 1.0 3\t~') {
  return ['whoami\t0', '0\tlock\tfree\t4\tboot-1\t', file, after, 'end', ''].join('\n');
}

describe('the lock fact around a read', () => {
  it('is as probed first when nothing took the lock during the read', () => {
    const facts = parseFacts(
      requests,
      output('lock-after\tfree\t4\tboot-1\t', '1\tfile\t640 0 0 root root 1.0 3\teHl6'),
    );
    expect(facts.locks?.get('/var/lib/hermes-fleet/lock')).toEqual({
      state: 'free',
      serial: '4',
      bootId: 'boot-1',
    });
  });

  it('is held, and the read torn, when a batch took it meanwhile: a file caught mid-change is no error', () => {
    const facts = parseFacts(requests, output(`lock-after\theld\t5\tboot-1\t${holder}`));
    expect(facts.locks?.get('/var/lib/hermes-fleet/lock')).toEqual({
      state: 'held',
      serial: '4',
      bootId: 'boot-1',
      holder: { who: 'bob@ci', command: 'hermes-fleet run' },
      torn: true,
    });
    expect(facts.paths.get('/h/config.yaml')).toEqual({ kind: 'absent' });
  });

  it('is torn too when a whole batch ran during the read (the serial moved)', () => {
    const facts = parseFacts(requests, output('lock-after\tfree\t5\tboot-1\t'));
    expect(facts.locks?.get('/var/lib/hermes-fleet/lock')).toMatchObject({
      state: 'held',
      torn: true,
    });
  });

  it('without a batch meanwhile, a file that changed under the read is still an error', () => {
    expect(() => parseFacts(requests, output('lock-after\tfree\t4\tboot-1\t'))).toThrow(
      HostReadError,
    );
  });
});
