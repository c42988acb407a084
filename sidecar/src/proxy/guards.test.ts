import { describe, expect, it } from '@jest/globals';
import { validatePolicy } from '../../../api/src/policy/validate.ts';
import { OPENAI_PROVIDER } from '../../../test/helpers/guards.ts';
import { compileGuards } from '../guards/policy.ts';
import { compilePolicy, type CompiledProvider } from '../policy/compile.ts';
import { applyGuards } from './guards.ts';

const ALL_OFF = {
  dataBoundary: { detectors: [] },
  guards: { promptInjection: { action: 'Off' }, tools: { action: 'Off' }, costBurst: { action: 'Off' } },
};

function compiled(spec: Record<string, unknown>, provider: Record<string, unknown> = {}) {
  const validated = validatePolicy({
    apiVersion: 'chaperone.dev/v1alpha1',
    kind: 'AIProviderPolicy',
    metadata: { name: 'test' },
    spec: { providers: [{ ...OPENAI_PROVIDER, ...provider }], ...spec },
  });
  if (!validated.ok) throw new Error(JSON.stringify(validated.errors));
  const policy = compilePolicy(validated.policy);
  if (!policy.ok) throw new Error(JSON.stringify(policy.errors));
  return {
    guards: compileGuards(validated.policy.spec),
    provider: policy.policy.providers[0] as CompiledProvider,
  };
}

const BODY = Buffer.from(
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Mail me at ada@example.com' }],
  }),
);

describe('applyGuards', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean]>([
    ['no detector, every guard Off', ALL_OFF, {}, false],
    ['the default policy (detectors on)', {}, {}, true],
    ['one detector', { ...ALL_OFF, dataBoundary: { detectors: ['email'] } }, {}, true],
    [
      'prompt injection on',
      { ...ALL_OFF, guards: { ...ALL_OFF.guards, promptInjection: { action: 'Report' } } },
      {},
      true,
    ],
    ['tools on', { ...ALL_OFF, guards: { ...ALL_OFF.guards, tools: { action: 'Block' } } }, {}, true],
    [
      'cost burst on',
      { ...ALL_OFF, guards: { ...ALL_OFF.guards, costBurst: { action: 'Report', tokensPerMinute: 1000 } } },
      {},
      true,
    ],
    ['a tokensPerMinute budget to estimate for', ALL_OFF, { limits: { tokensPerMinute: 1000 } }, true],
    ['only a requestsPerMinute limit', ALL_OFF, { limits: { requestsPerMinute: 10 } }, false],
  ])('inspects the body only when something reads it: %s', (_name, spec, provider, inspected) => {
    const { guards, provider: compiledProvider } = compiled(spec, provider);
    const run = applyGuards(guards, compiledProvider, '/v1/chat/completions', BODY, undefined);
    expect(run.findings !== undefined).toBe(inspected);
    expect(run.decision.result).toBe('allow');
    if (!inspected) {
      expect(run.body).toBe(BODY);
      expect(run.estimatedTokens).toBe(Math.ceil(BODY.length / 4));
    }
  });

  it('still refuses a provider that misses spec.requirements when nothing inspects', () => {
    const { guards, provider } = compiled(
      { ...ALL_OFF, requirements: { trainingOptOut: true } },
      { risk: { dataResidency: ['us'] } },
    );
    const run = applyGuards(guards, provider, '/v1/chat/completions', BODY, undefined);
    expect(run.decision.result).toBe('deny');
    expect(run.findings).toBeUndefined();
  });
});
