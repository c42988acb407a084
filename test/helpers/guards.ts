// A validated, compiled guard policy for the guards' unit tests and the redaction bench: one OpenAI
// provider plus whatever the test sets, defaults applied as the apiserver applies them.
import { validatePolicy } from '../../api/src/policy/validate.ts';
import type { PolicySpecType } from '../../api/src/policy/index.ts';
import { compileGuards, type GuardOptions, type GuardPolicy } from '../../sidecar/src/guards/policy.ts';

export const OPENAI_PROVIDER = {
  name: 'openai',
  type: 'openai',
  endpoint: 'https://api.openai.com',
  credentials: { secretRef: { name: 'openai', key: 'apiKey' } },
};

/** The spec after defaulting; `spec` is merged over one OpenAI provider. */
export function guardSpec(spec: Record<string, unknown> = {}): PolicySpecType {
  const result = validatePolicy({
    apiVersion: 'chaperone.dev/v1alpha1',
    kind: 'AIProviderPolicy',
    metadata: { name: 'test' },
    spec: { providers: [OPENAI_PROVIDER], ...spec },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy.spec;
}

export function guardPolicy(spec: Record<string, unknown> = {}, options?: GuardOptions): GuardPolicy {
  return compileGuards(guardSpec(spec), options);
}
