import { describe, expect, it } from '@jest/globals';
import { validatePolicy } from '../../../api/src/policy/validate.ts';
import { compilePolicy, type CompiledPolicy } from './compile.ts';
import { chooseProvider } from './failover.ts';

function compiled(spec: Record<string, unknown>): CompiledPolicy {
  const valid = validatePolicy({
    apiVersion: 'chaperone.dev/v1alpha1',
    kind: 'AIProviderPolicy',
    metadata: { name: 'p' },
    spec,
  });
  if (!valid.ok) throw new Error(JSON.stringify(valid.errors));
  const result = compilePolicy(valid.policy);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
}
const provider = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  type: 'openai',
  endpoint: `https://${name}.example.com`,
  credentials: { secretRef: { name: 'k', key: 'k' } },
  ...extra,
});
const policy = (
  overrides: Record<string, Record<string, unknown>> = {},
  spec: Record<string, unknown> = {},
): CompiledPolicy =>
  compiled({
    ...spec,
    providers: [
      provider('primary', { failover: ['second', 'third'], ...overrides.primary }),
      provider('second', overrides.second),
      provider('third', overrides.third),
    ],
  });

describe('chooseProvider', () => {
  it.each<[string, CompiledPolicy, Record<string, string>, string, string | undefined]>([
    ['healthy: the provider asked for', policy(), {}, 'primary', undefined],
    ['breaker open: the first failover', policy(), { primary: 'open' }, 'second', 'circuit open'],
    ['half-open still serves the provider itself', policy(), { primary: 'half-open' }, 'primary', undefined],
    ['killed: the first failover', policy({ primary: { killSwitch: true } }), {}, 'second', 'kill switch'],
    [
      'first failover also open: the next',
      policy(),
      { primary: 'open', second: 'open' },
      'third',
      'circuit open',
    ],
    [
      'first failover killed: the next',
      policy({ second: { killSwitch: true } }),
      { primary: 'open' },
      'third',
      'circuit open',
    ],
    [
      'every failover down: the provider itself (and its refusal)',
      policy(),
      { primary: 'open', second: 'open', third: 'open' },
      'primary',
      undefined,
    ],
    [
      'policy kill switch: no failover around it',
      policy({}, { killSwitch: true }),
      { primary: 'open' },
      'primary',
      undefined,
    ],
  ])('%s', (_name, compiledPolicy, breakers, expected, because) => {
    const choice = chooseProvider(compiledPolicy, 'primary', (p) => breakers[p]);
    expect(choice?.provider.name).toBe(expected);
    expect(choice?.failedOverFrom?.because).toBe(because);
  });

  it('knows nothing of an undeclared provider', () => {
    expect(chooseProvider(policy(), 'nope', () => undefined)).toBeUndefined();
  });
});
