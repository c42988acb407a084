// The provider breaker counts outcomes and nothing else: no latency samples to concatenate and
// sort on every failure, while it still opens on the failure rate.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { CompiledProvider } from '../policy/compile.ts';
import { Upstreams } from './upstreams.ts';

const provider = {
  name: 'openai',
  rule: 'spec.providers[0]',
  breaker: { errorThresholdPercentage: 50, volumeThreshold: 20, resetSeconds: 30, timeoutSeconds: 60 },
} as unknown as CompiledProvider;

let upstreams: Upstreams | undefined;
afterEach(async () => {
  await upstreams?.close();
});

describe('Upstreams.breaker', () => {
  it('keeps no latency samples, and opens once failures pass the threshold', async () => {
    upstreams = new Upstreams({
      resolver: () => Promise.resolve([]),
      timeouts: { connectMs: 1000, firstByteMs: 1000, idleMs: 1000, clientMs: 1000, keepAliveMs: 1000 },
      selfPorts: new Set(),
      connectionsPerOrigin: 1,
    });
    const breaker = upstreams.breaker(provider);
    for (let i = 0; i < 30; i++) await breaker.fire(() => Promise.resolve('ok'));
    expect(breaker.stats.fires).toBe(30);
    expect(breaker.stats.latencyTimes).toEqual([]);
    for (let i = 0; i < 40 && !breaker.opened; i++)
      await breaker.fire(() => Promise.reject(new Error('503'))).catch(() => undefined);
    expect(upstreams.state('openai')).toBe('open');
    expect(breaker.stats.failures).toBeGreaterThan(30);
  });
});
