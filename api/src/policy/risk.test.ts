import { describe, expect, it } from '@jest/globals';
import { unmetRequirements, type ProviderRisk, type Requirements } from './risk.ts';

describe('unmetRequirements', () => {
  it.each<[string, Requirements | undefined, ProviderRisk, string[]]>([
    ['no requirements', undefined, undefined, []],
    ['empty requirements', {}, undefined, []],
    ['residency within', { dataResidency: ['eu', 'us'] }, { dataResidency: ['eu'] }, []],
    [
      'residency partly outside',
      { dataResidency: ['eu'] },
      { dataResidency: ['eu', 'us'] },
      ['data residency [eu, us] is not within [eu]'],
    ],
    ['residency undeclared', { dataResidency: ['eu'] }, {}, ['data residency [] is not within [eu]']],
    ['training opt-out declared', { trainingOptOut: true }, { trainingOptOut: true }, []],
    [
      'training opt-out denied',
      { trainingOptOut: true },
      { trainingOptOut: false },
      ['training opt-out is not declared'],
    ],
    ['training opt-out not required', { trainingOptOut: false }, undefined, []],
    ['retention within', { maxRetentionDays: 30 }, { retentionDays: 30 }, []],
    ['retention zero', { maxRetentionDays: 0 }, { retentionDays: 0 }, []],
    ['retention too long', { maxRetentionDays: 7 }, { retentionDays: 30 }, ['retention 30 exceeds 7 days']],
    ['retention undeclared', { maxRetentionDays: 7 }, undefined, ['retention undeclared exceeds 7 days']],
    [
      'everything unmet, in order',
      { dataResidency: ['eu'], trainingOptOut: true, maxRetentionDays: 0 },
      { dataResidency: ['us'], retentionDays: 1 },
      [
        'data residency [us] is not within [eu]',
        'training opt-out is not declared',
        'retention 1 exceeds 0 days',
      ],
    ],
  ])('%s', (_name, requirements, risk, problems) => {
    expect(unmetRequirements(requirements, risk)).toEqual(problems);
  });
});
