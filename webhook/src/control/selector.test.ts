import { describe, expect, it } from '@jest/globals';
import { selectorMatches, type LabelSelector } from './selector.ts';

const labels = { app: 'checkout', tier: 'web', canary: 'true' };

describe('selectorMatches', () => {
  it.each<[string, LabelSelector, boolean]>([
    ['empty selector selects all', {}, true],
    ['matchLabels subset', { matchLabels: { app: 'checkout' } }, true],
    ['matchLabels value differs', { matchLabels: { app: 'search' } }, false],
    ['matchLabels key missing', { matchLabels: { team: 'payments' } }, false],
    ['In with value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, true],
    ['In without value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, false],
    ['In on missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn excludes', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, false],
    ['NotIn on missing key', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, false],
    [
      'labels AND expressions',
      {
        matchLabels: { app: 'checkout' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }],
      },
      false,
    ],
  ])('%s', (_name, selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});
