import { describe, expect, it } from '@jest/globals';
import { CREDENTIAL_EXPIRY_SKEW_MS, TokenCache, refreshWindowMs } from './token-cache.ts';

interface Token {
  value: string;
  expiresAt: number;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('refreshWindowMs', () => {
  it.each([
    [3_600_000, 300_000],
    [600_000, 150_000],
    [0, 0],
  ])('lifetime %d ms → refresh %d ms before expiry', (lifetime, window) => {
    expect(refreshWindowMs(lifetime)).toBe(window);
  });
});

describe('TokenCache', () => {
  it('exchanges once for concurrent callers and serves later ones from the cache', async () => {
    const now = 0;
    const cache = new TokenCache<Token>({ now: () => now });
    const pending = deferred<Token>();
    let calls = 0;
    const fetch = (): Promise<Token> => (calls++, pending.promise);
    const waiting = Array.from({ length: 50 }, () => cache.get('k', fetch));
    pending.resolve({ value: 't1', expiresAt: 3_600_000 });
    expect(new Set((await Promise.all(waiting)).map((t) => t.value))).toEqual(new Set(['t1']));
    expect((await cache.get('k', fetch)).value).toBe('t1');
    expect(calls).toBe(1);
    expect(cache.stats).toEqual({ hits: 1, misses: 50, exchanges: 1, failures: 0 });
  });

  it('refreshes in the background inside the refresh window, still serving the cached token', async () => {
    let now = 0;
    const cache = new TokenCache<Token>({ now: () => now });
    const tokens = ['t1', 't2'];
    const refresh = deferred<Token>();
    let calls = 0;
    const fetch = (): Promise<Token> =>
      calls++ === 0 ? Promise.resolve({ value: tokens[0]!, expiresAt: 3_600_000 }) : refresh.promise;
    await cache.get('k', fetch);
    now = 3_600_000 - 299_000; // inside the 5-minute window
    expect((await cache.get('k', fetch)).value).toBe('t1');
    expect((await cache.get('k', fetch)).value).toBe('t1');
    expect(calls).toBe(2); // one background refresh, not one per caller
    refresh.resolve({ value: 't2', expiresAt: 7_200_000 });
    await refresh.promise;
    await Promise.resolve();
    expect((await cache.get('k', fetch)).value).toBe('t2');
    expect(cache.stats.misses).toBe(1);
  });

  it('never serves a credential inside the expiry skew: callers wait for a new one', async () => {
    let now = 0;
    const cache = new TokenCache<Token>({ now: () => now });
    let n = 0;
    const fetch = (): Promise<Token> => Promise.resolve({ value: `t${++n}`, expiresAt: now + 3_600_000 });
    await cache.get('k', fetch);
    now = 3_600_000 - CREDENTIAL_EXPIRY_SKEW_MS;
    expect((await cache.get('k', fetch)).value).toBe('t2');
    expect(cache.stats.misses).toBe(2);
  });

  it('shares a failure with the callers that waited, and tries again on the next call', async () => {
    const cache = new TokenCache<Token>();
    const pending = deferred<Token>();
    const waiting = [cache.get('k', () => pending.promise), cache.get('k', () => pending.promise)];
    pending.reject(new Error('endpoint down'));
    await expect(Promise.all(waiting)).rejects.toThrow('endpoint down');
    const ok = await cache.get('k', () =>
      Promise.resolve({ value: 'ok', expiresAt: Date.now() + 3_600_000 }),
    );
    expect(ok.value).toBe('ok');
    expect(cache.stats).toMatchObject({ exchanges: 2, failures: 1 });
  });

  it('keeps the cached credential when a background refresh fails, and reports the failure', async () => {
    let now = 0;
    const failures: unknown[] = [];
    const cache = new TokenCache<Token>({ now: () => now, onBackgroundFailure: (_k, e) => failures.push(e) });
    await cache.get('k', () => Promise.resolve({ value: 't1', expiresAt: 3_600_000 }));
    now = 3_400_000;
    const failing = Promise.reject(new Error('refresh failed'));
    failing.catch(() => undefined);
    expect((await cache.get('k', () => failing)).value).toBe('t1');
    await new Promise((r) => setImmediate(r));
    expect(failures).toHaveLength(1);
    expect((await cache.get('k', () => failing)).value).toBe('t1');
  });
});
