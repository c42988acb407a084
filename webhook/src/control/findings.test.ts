import { describe, expect, it } from '@jest/globals';
import { validatePolicy } from '../../../api/src/policy/validate.ts';
import type { PolicySpecType } from '../../../api/src/policy/index.ts';
import { policyFindings, type SecretKeys } from './findings.ts';

function spec(raw: Record<string, unknown>): PolicySpecType {
  const result = validatePolicy({
    apiVersion: 'chaperone.dev/v1alpha1',
    kind: 'AIProviderPolicy',
    metadata: { name: 'p' },
    spec: raw,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy.spec;
}
const provider = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  type: 'openai',
  endpoint: `https://${name}.example.com`,
  credentials: { secretRef: { name: `${name}-key`, key: 'apiKey' } },
  ...extra,
});
const allKeys: SecretKeys = () => ['apiKey'];

describe('policyFindings', () => {
  it('finds nothing wrong with a complete policy', () => {
    expect(policyFindings(spec({ providers: [provider('a')] }), allKeys)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, SecretKeys, string, string]>([
    [
      'a missing Secret',
      { providers: [provider('a')] },
      () => undefined,
      'SecretMissing',
      'Secret a-key does not exist',
    ],
    [
      'a missing key',
      { providers: [provider('a')] },
      () => ['token'],
      'KeyMissing',
      'Secret a-key has no key apiKey',
    ],
    [
      'a failover cycle',
      { providers: [provider('a', { failover: ['b'] }), provider('b', { failover: ['a'] })] },
      allKeys,
      'FailoverCycle',
      'failover from a leads back to it',
    ],
    [
      'a provider outside the required data residency',
      {
        requirements: { dataResidency: ['eu'] },
        providers: [provider('a', { risk: { dataResidency: ['us'] } })],
      },
      allKeys,
      'RequirementsNotMet',
      'a: data residency [us] is not within [eu]',
    ],
    [
      'a provider that does not declare training opt-out',
      { requirements: { trainingOptOut: true }, providers: [provider('a')] },
      allKeys,
      'RequirementsNotMet',
      'a: training opt-out is not declared',
    ],
    [
      'a provider retaining data too long',
      { requirements: { maxRetentionDays: 7 }, providers: [provider('a', { risk: { retentionDays: 30 } })] },
      allKeys,
      'RequirementsNotMet',
      'a: retention 30 exceeds 7 days',
    ],
  ])('reports %s', (_name, raw, keys, reason, message) => {
    expect(policyFindings(spec(raw), keys)).toContainEqual({ reason, provider: 'a', message });
  });
});
