// untilFlat: how many closed-loop windows the max-rate search's ceiling takes, and which it keeps.
import { describe, expect, it } from '@jest/globals';
import { untilFlat } from './load.ts';

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
