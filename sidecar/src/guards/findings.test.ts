import { describe, expect, it } from '@jest/globals';
import { guardPolicy } from '../../../test/helpers/guards.ts';
import { findingCounts, formatCounts, type DetectorCounts } from './findings.ts';

describe('formatCounts', () => {
  it.each<[string, DetectorCounts, string]>([
    ['nothing', {}, ''],
    ['zero counts left out', { email: 0, phone: 0 }, ''],
    ['one detector', { email: 2 }, 'email:2'],
    [
      'alphabetical, whatever the insertion order',
      { 'us-ssn': 1, email: 3, 'credit-card': 1 },
      'credit-card:1,email:3,us-ssn:1',
    ],
    ['hyphenated names in code-unit order', { 'ip-address': 1, iban: 2 }, 'iban:2,ip-address:1'],
  ])('%s', (_name, counts, expected) => {
    expect(formatCounts(counts)).toBe(expected);
  });
});

describe('findingCounts', () => {
  it('lists detector findings alphabetically, counts only, zero counts left out', () => {
    const counts = findingCounts(
      guardPolicy(),
      {
        boundary: {
          format: 'json',
          detected: { secret: 1, email: 2, phone: 0 },
          action: 'redacted',
          binary: 0,
        },
      },
      { detected: { jwt: 1 }, restored: 0, toolCalls: [], notAllowed: [] },
    );
    expect(counts.filter((c) => c.guard === 'data-boundary')).toEqual([
      { guard: 'data-boundary', kind: 'email', action: 'redacted', direction: 'request', count: 2 },
      { guard: 'data-boundary', kind: 'secret', action: 'redacted', direction: 'request', count: 1 },
      { guard: 'data-boundary', kind: 'jwt', action: 'reported', direction: 'response', count: 1 },
    ]);
  });
});
