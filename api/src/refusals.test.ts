import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { REFUSALS, REFUSAL_CODES, RefusalError, isRefusal } from './refusals.ts';

const doc = readFileSync(new URL('../../docs/refusals.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` +\| (\d{3}) +\|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
);

describe('refusal codes', () => {
  it.each(REFUSAL_CODES)('%s is documented in docs/refusals.md with its status', (code) => {
    expect(documented.get(code)).toBe(REFUSALS[code].status);
  });

  it('documents no code that does not exist', () => {
    expect([...documented.keys()].sort()).toEqual([...REFUSAL_CODES].sort());
  });

  it.each([
    ['EGRESS_DENIED', 403],
    ['KILL_SWITCH_ENGAGED', 503],
    ['CIRCUIT_OPEN', 503],
    ['RATE_LIMITED', 429],
    ['DATA_BOUNDARY_BLOCKED', 422],
    ['GUARD_BLOCKED', 403],
    ['POLICY_NOT_LOADED', 503],
    ['UPSTREAM_ERROR', 502],
    ['IDENTITY_UNAVAILABLE', 503],
  ] as const)('%s answers %i, as DESIGN.md fixes it', (code, status) => {
    expect(REFUSALS[code].status).toBe(status);
  });

  it('carries a stable code and renders the documented body', () => {
    const err = new RefusalError('RATE_LIMITED', 'too many', { policy: 'p', provider: 'openai', rule: 'r' });
    expect(isRefusal(err)).toBe(true);
    expect(err.status).toBe(429);
    expect(err.toBody('id-1')).toEqual({
      code: 'RATE_LIMITED',
      reason: 'too many',
      policy: 'p',
      provider: 'openai',
      rule: 'r',
      requestId: 'id-1',
    });
    expect(new RefusalError('BAD_REQUEST', 'x').toBody()).toEqual({
      code: 'BAD_REQUEST',
      reason: 'x',
      policy: null,
      provider: null,
    });
  });
});
