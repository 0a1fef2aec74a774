import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { sendSignal } from './connection.js';

/** A channel as ssh2 keeps it, with the protocol call recorded. */
function channelAt(state: string) {
  const sent: [number, string][] = [];
  const publicCalls: string[] = [];
  const channel = {
    outgoing: { id: 7, state },
    _client: { _protocol: { signal: (id: number, name: string) => sent.push([id, name]) } },
    signal: (name: string) => publicCalls.push(name),
  };
  return { channel: channel as unknown as ClientChannel, sent, publicCalls };
}

describe('sendSignal', () => {
  it('sends the request after our EOF, where ssh2 channel.signal() sends nothing', () => {
    // Every command gets its stdin and EOF at once: without this, Ctrl-C never left the machine.
    const { channel, sent } = channelAt('eof');
    sendSignal(channel, 'INT');
    expect(sent).toEqual([[7, 'INT']]);
  });

  it('sends on an open channel too', () => {
    const { channel, sent } = channelAt('open');
    sendSignal(channel, 'KILL');
    expect(sent).toEqual([[7, 'KILL']]);
  });

  it('leaves a closing channel to ssh2 itself', () => {
    const { channel, sent, publicCalls } = channelAt('closing');
    sendSignal(channel, 'INT');
    expect(sent).toEqual([]);
    expect(publicCalls).toEqual(['INT']);
  });
});
