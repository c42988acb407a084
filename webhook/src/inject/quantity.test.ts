import { describe, expect, it } from '@jest/globals';
import { parseQuantity } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['1', 1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['500m', 0.5],
    ['250u', 0.00025],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['2k', 2000],
    ['1e3', 1000],
    ['1.5G', 1.5e9],
    ['+2', 2],
  ])('%s → %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 10);
  });

  it.each(['', 'lots', '-1', '1 Gi', '1gi', '1KiB', '1.2.3', 'Mi', '1Mi ', '0x10'])(
    '%j is not a quantity',
    (text) => {
      expect(parseQuantity(text)).toBeUndefined();
    },
  );
});
