import { describe, expect, it } from '@jest/globals';
import type { GuardFinding } from '../../../api/src/bundle.ts';
import { guardFindingEvent } from './events.ts';
import { parseReport } from './routes.ts';

const f = (
  guard: GuardFinding['guard'],
  kind: string,
  action: GuardFinding['action'],
  direction: GuardFinding['direction'] = 'request',
): GuardFinding & { provider: string } => ({ guard, kind, action, direction, count: 3, provider: 'openai' });

describe('guardFindingEvent', () => {
  it.each([
    [
      f('data-boundary', 'email', 'redacted'),
      'Normal',
      'SensitiveDataRedacted',
      'email redacted from requests to provider openai',
    ],
    [
      f('data-boundary', 'credit-card', 'blocked'),
      'Warning',
      'SensitiveDataBlocked',
      'requests to provider openai blocked: credit-card',
    ],
    [
      f('data-boundary', 'us-ssn', 'reported'),
      'Warning',
      'SensitiveDataDetected',
      'us-ssn in requests to provider openai (reported, sent as is)',
    ],
    [
      f('data-boundary', 'email', 'reported', 'response'),
      'Normal',
      'SensitiveDataDetected',
      'email in responses from provider openai',
    ],
    [
      f('data-boundary', 'unscanned', 'blocked'),
      'Warning',
      'GuardFinding',
      'requests to provider openai could not be scanned (blocked)',
    ],
    [
      f('prompt-injection', 'score', 'reported'),
      'Normal',
      'GuardFinding',
      'prompt injection in requests to provider openai (reported)',
    ],
    [
      f('prompt-injection', 'score', 'blocked'),
      'Warning',
      'GuardFinding',
      'prompt injection in requests to provider openai (blocked)',
    ],
    [
      f('tools', 'allowed', 'blocked', 'response'),
      'Warning',
      'GuardFinding',
      'a tool the policy does not allow in responses from provider openai (blocked)',
    ],
    [
      f('tools', 'maxCallsPerResponse', 'reported', 'response'),
      'Normal',
      'GuardFinding',
      'a burst of tool calls in responses from provider openai (reported)',
    ],
    [
      f('cost-burst', 'tokensPerMinute', 'blocked'),
      'Warning',
      'GuardFinding',
      'a token burst in requests to provider openai (blocked)',
    ],
  ])('%o', (finding, type, reason, message) => {
    expect(guardFindingEvent(finding)).toEqual({ type, reason, message, count: 3 });
  });
});

describe('parseReport', () => {
  const base = { breakers: { openai: 'closed' }, refusals: [] };
  const finding = {
    policy: 'p',
    provider: 'openai',
    guard: 'data-boundary',
    kind: 'email',
    action: 'redacted',
    direction: 'request',
    count: 2,
  };

  it('accepts reports with and without findings', () => {
    expect(parseReport(base)).toEqual(base);
    expect(parseReport({ ...base, findings: [finding] })).toEqual({ ...base, findings: [finding] });
  });

  it.each([
    ['an unknown guard', { guard: 'mind-reading' }],
    ['an unknown action', { action: 'deleted' }],
    ['an unknown direction', { direction: 'sideways' }],
    ['a kind that is not a name', { kind: 'jane@example.com' }],
    ['a zero count', { count: 0 }],
    ['a long policy name', { policy: 'p'.repeat(254) }],
  ])('refuses a finding with %s', (_what, change) => {
    expect(parseReport({ ...base, findings: [{ ...finding, ...change }] })).toBeUndefined();
  });

  it('refuses more than 256 findings', () => {
    expect(parseReport({ ...base, findings: Array.from({ length: 257 }, () => finding) })).toBeUndefined();
  });
});
