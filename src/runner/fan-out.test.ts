import { describe, expect, it } from 'vitest';
import { makeHost } from '../../test/utils/host.js';
import { hostFanOut, onHosts } from './fan-out.js';

const hosts = ['web1', 'web2', 'web3'].map((name) => makeHost({}, name));

describe('onHosts', () => {
  it('listens to Ctrl-C only while the hosts run; the first Ctrl-C aborts the signal', async () => {
    const before = process.listenerCount('SIGINT');
    const aborted = await onHosts({ forks: 2, ctrlC: {} }, (fanOut) => {
      expect(process.listenerCount('SIGINT')).toBe(before + 1);
      expect(fanOut.signal.aborted).toBe(false);
      process.emit('SIGINT');
      return Promise.resolve(fanOut.signal.aborted);
    });
    expect(aborted).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('stops listening when the host work throws', async () => {
    const before = process.listenerCount('SIGINT');
    await expect(
      onHosts({ forks: 1, ctrlC: {} }, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('without ctrlC leaves Ctrl-C to Node: no listener, a signal nothing aborts', async () => {
    const before = process.listenerCount('SIGINT');
    await onHosts({ forks: 1 }, (fanOut) => {
      expect(process.listenerCount('SIGINT')).toBe(before);
      expect(fanOut.signal.aborted).toBe(false);
      return Promise.resolve();
    });
  });
});

describe('hostFanOut', () => {
  it('runs at most forks hosts at once, one limit across calls, results in host order', async () => {
    let inFlight = 0;
    let peak = 0;
    const fanOut = hostFanOut(2, new AbortController().signal, () =>
      Promise.reject(new Error('no login here')),
    );
    const work = async (host: (typeof hosts)[number]) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return host.name;
    };
    const [first, second] = await Promise.all([fanOut.each(hosts, work), fanOut.each(hosts, work)]);
    expect(first).toEqual(['web1', 'web2', 'web3']);
    expect(second).toEqual(['web1', 'web2', 'web3']);
    expect(peak).toBe(2);
  });
});
