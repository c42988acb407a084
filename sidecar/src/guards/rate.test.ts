import { describe, expect, it } from '@jest/globals';
import { setImmediate as tick } from 'node:timers/promises';
import { guardPolicy } from '../../../test/helpers/guards.ts';
import { BURST_FACTOR, RateLimiter, type ProviderLimits } from './rate.ts';

const provider = (limits: ProviderLimits['limits']): ProviderLimits => ({
  name: 'openai',
  rule: 'spec.providers[0]',
  limits,
});

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start - (start % 60_000);
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RateLimiter', () => {
  const policy = guardPolicy();

  it('refuses the request over requestsPerMinute with the rule that decided, until the minute slides on', () => {
    const c = clock();
    const limiter = new RateLimiter(c.now);
    const p = provider({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) limiter.settle(limiter.reserve(policy, p, 10).reservation!);
    expect(limiter.reserve(policy, p, 10)).toEqual({
      decision: {
        result: 'deny',
        code: 'RATE_LIMITED',
        reason: 'requests per minute 3 reached for provider openai',
        rule: 'spec.providers[0].limits.requestsPerMinute',
      },
      reservation: undefined,
    });
    c.advance(90_000); // half of the previous minute still weighs: 1 of 3
    expect(limiter.current('openai').requests).toBe(1);
    expect(limiter.reserve(policy, p, 10).decision.result).toBe('allow');
  });

  it('never overshoots tokensPerMinute under concurrency: reserve before the call, settle after', async () => {
    const limiter = new RateLimiter();
    const p = provider({ tokensPerMinute: 10_000 });
    let inFlight = 0;
    let peak = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async () => {
        await tick();
        const { decision, reservation } = limiter.reserve(policy, p, 1000);
        if (!reservation) return decision.code;
        inFlight += reservation.tokens;
        peak = Math.max(peak, inFlight);
        await tick(); // the call
        inFlight -= reservation.tokens;
        limiter.settle(reservation, 1000);
        return 'ok';
      }),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(40);
    expect(peak).toBeLessThanOrEqual(10_000);
    expect(limiter.current('openai').tokens).toBe(10_000);
  });

  it('counts the tokens the response reports instead of the estimate, and nothing for a released call', () => {
    const limiter = new RateLimiter();
    const p = provider({ tokensPerMinute: 10_000 });
    const a = limiter.reserve(policy, p, 4000).reservation!;
    const b = limiter.reserve(policy, p, 4000).reservation!;
    expect(limiter.current('openai')).toEqual({ requests: 2, tokens: 8000 });
    limiter.settle(a, 1200);
    limiter.release(b);
    limiter.release(b); // idempotent
    expect(limiter.current('openai')).toEqual({ requests: 1, tokens: 1200 });
  });

  it('explains a single request larger than the whole budget', () => {
    const limiter = new RateLimiter();
    expect(limiter.reserve(policy, provider({ tokensPerMinute: 1000 }), 5000).decision.reason).toBe(
      'the request is estimated at 5000 tokens, more than the 1000 tokens per minute of provider openai',
    );
  });

  it('lets the request through and reports it when the policy is in Report mode', () => {
    const limiter = new RateLimiter();
    const reporting = guardPolicy({ mode: 'Report' });
    const p = provider({ requestsPerMinute: 1 });
    limiter.reserve(reporting, p, 1);
    const over = limiter.reserve(reporting, p, 1);
    expect(over.decision.result).toBe('report');
    expect(over.reservation).toBeDefined();
  });

  it('reports or blocks a burst over guards.costBurst.tokensPerMinute', () => {
    const limiter = new RateLimiter();
    const reporting = guardPolicy({ guards: { costBurst: { tokensPerMinute: 5000 } } });
    const blocking = guardPolicy({ guards: { costBurst: { tokensPerMinute: 5000, action: 'Block' } } });
    const p = provider({});
    limiter.settle(limiter.reserve(reporting, p, 4000).reservation!);
    expect(limiter.reserve(reporting, p, 2000).decision).toEqual({
      result: 'report',
      code: 'RATE_LIMITED',
      reason: 'token burst: 6000 tokens per minute for provider openai exceeds 5000 tokens per minute',
      rule: 'spec.guards.costBurst',
    });
    expect(limiter.reserve(blocking, p, 2000).decision.result).toBe('deny');
  });

  it('flags a burst far above the workload’s own baseline', () => {
    const c = clock();
    const limiter = new RateLimiter(c.now);
    const p = provider({});
    for (let minute = 0; minute < 6; minute++) {
      limiter.settle(limiter.reserve(policy, p, 2000).reservation!);
      c.advance(60_000);
    }
    expect(limiter.baseline('openai')).toBe(2000);
    expect(limiter.reserve(policy, p, 3000).decision.result).toBe('allow');
    const burst = limiter.reserve(policy, p, 2000 * BURST_FACTOR + 1);
    expect(burst.decision.result).toBe('report');
    expect(burst.decision.reason).toMatch(/exceeds 10× the recent baseline of 2000 tokens per minute$/);
  });

  it('has no baseline until it has seen a few minutes', () => {
    const limiter = new RateLimiter();
    limiter.settle(limiter.reserve(policy, provider({}), 100).reservation!);
    expect(limiter.baseline('openai')).toBeUndefined();
    expect(limiter.reserve(policy, provider({}), 1_000_000).decision.result).toBe('allow');
  });
});
