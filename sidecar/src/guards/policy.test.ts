import { describe, expect, it } from '@jest/globals';
import { guardPolicy, OPENAI_PROVIDER } from '../../../test/helpers/guards.ts';
import { ALLOW, checkProviderRisk, refusalOf } from './policy.ts';

describe('checkProviderRisk', () => {
  const spec = {
    requirements: { dataResidency: ['eu'], trainingOptOut: true, maxRetentionDays: 30 },
    providers: [
      {
        ...OPENAI_PROVIDER,
        name: 'eu',
        risk: { dataResidency: ['eu'], trainingOptOut: true, retentionDays: 0 },
      },
      { ...OPENAI_PROVIDER, name: 'us', risk: { dataResidency: ['us'], retentionDays: 90 } },
    ],
  };

  it('lets a provider that meets the requirements through', () => {
    expect(checkProviderRisk(guardPolicy(spec), 'eu')).toBe(ALLOW);
  });

  it('refuses a provider that does not, with every reason', () => {
    const decision = checkProviderRisk(guardPolicy(spec), 'us');
    expect(decision).toEqual({
      result: 'deny',
      code: 'EGRESS_DENIED',
      reason:
        "provider us does not meet the policy's requirements: data residency [us] is not within [eu]; training opt-out is not declared; retention 90 exceeds 30 days",
      rule: 'spec.requirements',
    });
    const refusal = refusalOf(decision, { policy: 'p', provider: 'us' });
    expect(refusal.toBody()).toMatchObject({
      code: 'EGRESS_DENIED',
      rule: 'spec.requirements',
      provider: 'us',
    });
    expect(refusal.status).toBe(403);
  });

  it('only reports in Report mode', () => {
    expect(checkProviderRisk(guardPolicy({ ...spec, mode: 'Report' }), 'us').result).toBe('report');
  });

  it('has nothing to check without requirements', () => {
    expect(checkProviderRisk(guardPolicy({ providers: spec.providers }), 'us')).toBe(ALLOW);
  });
});
