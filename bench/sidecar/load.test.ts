// untilFlat: how many closed-loop windows the max-rate search's ceiling takes, and which it keeps;
// RateBisection: where the search ends for a proxy whose limit is known.
import { describe, expect, it } from '@jest/globals';
import { RateBisection, untilFlat } from './load.ts';

describe('untilFlat', () => {
  it.each([
    [
      'stops after two windows that do not rise 5 % above the best',
      [4630, 6200, 7550, 7600, 7400, 9000],
      5,
      7600,
    ],
    ['keeps measuring while each window rises', [1000, 2000, 3000, 4000, 4100, 4100], 6, 4100],
    ['a dip does not end it when the next window rises', [6200, 6870, 5210, 8320, 8330, 8100], 6, 8330],
    ['stops at the most windows allowed', [1, 2, 4, 8, 16, 32, 64, 128, 256], 8, 128],
    ['a flat start: the first window is the best', [5000, 5000, 5000], 3, 5000],
  ])('%s', async (_, rates, windows, best) => {
    let taken = 0;
    const result = await untilFlat(() => Promise.resolve({ rps: rates[taken++]!, window: taken }));
    expect(taken).toBe(windows);
    expect(result.rps).toBe(best);
  });

  it('takes one window when told to (the direct call, which has no search to cap)', async () => {
    let taken = 0;
    const result = await untilFlat(() => Promise.resolve({ rps: 1000 * ++taken }), { max: 1 });
    expect([taken, result.rps]).toEqual([1, 1000]);
  });

  it('returns the best window whole (its CPU figure with its rate)', async () => {
    const windows = [
      { rps: 100, cpu: 0.3 },
      { rps: 300, cpu: 0.12 },
      { rps: 290, cpu: 0.2 },
      { rps: 280, cpu: 0.2 },
    ];
    let i = 0;
    await expect(untilFlat(() => Promise.resolve(windows[i++]!))).resolves.toEqual({ rps: 300, cpu: 0.12 });
  });
});

describe('RateBisection', () => {
  // A proxy that serves everything up to `limit`: the search ends within 2 % (or 25 rps) below it.
  it.each([
    ['limit in the middle of the range', 5000, 6000],
    ['limit just under the ceiling', 8000, 8100],
    ['limit above 1.1x the ceiling: the search stops at the top', 20000, 6000],
    ['a low limit (LiteLLM-like)', 170, 1300],
  ])('%s', (_, limit, ceiling) => {
    const search = new RateBisection(ceiling);
    const tried: number[] = [];
    while (!search.done) {
      tried.push(search.next);
      search.record(search.next <= limit);
    }
    const top = Math.min(limit, Math.ceil(ceiling * 1.1));
    expect(search.result).toBeLessThanOrEqual(top);
    expect(search.result).toBeGreaterThanOrEqual(Math.floor(top - Math.max(25, top * 0.02) - 10));
    expect(tried.length).toBeLessThan(12);
  });

  it('is 0 when nothing passes', () => {
    const search = new RateBisection(1000);
    while (!search.done) search.record(false);
    expect(search.result).toBe(0);
  });
});
