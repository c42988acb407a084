import { describe, expect, it } from '@jest/globals';
import { UsageCounters } from './limits.ts';

describe('UsageCounters', () => {
  it('counts requests and tokens per provider within the minute', () => {
    let now = 120_000;
    const counters = new UsageCounters(() => now);
    counters.recordRequest('a');
    counters.recordRequest('a');
    counters.recordTokens('a', 50);
    counters.recordRequest('b');
    expect(counters.current('a')).toEqual({ requests: 2, tokens: 50 });
    expect(counters.current('b')).toEqual({ requests: 1, tokens: 0 });
    now += 59_000;
    expect(counters.current('a')).toEqual({ requests: 2, tokens: 50 });
  });

  it('weighs the previous minute by how much of it still overlaps the window', () => {
    let now = 60_000;
    const counters = new UsageCounters(() => now);
    for (let i = 0; i < 10; i++) counters.recordRequest('a');
    now = 120_000 + 15_000; // a quarter into the next minute: 75% of the previous one counts
    expect(counters.current('a').requests).toBe(7);
    now = 180_000 + 1; // two minutes later: nothing left
    expect(counters.current('a').requests).toBe(0);
  });
});
