// Test policies: manifests run through the real validator and compiler, as the sidecar loads them.
import { validatePolicy, formatErrors } from '../../api/src/policy/validate.ts';
import { compilePolicy, type CompiledPolicy } from '../src/policy/compile.ts';
import type { AIProviderPolicy } from '../../api/src/policy/index.ts';

export type Manifest = Record<string, unknown>;

export function provider(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'openai',
    type: 'openai',
    endpoint: 'https://api.openai.com',
    credentials: { secretRef: { name: 'openai-key', key: 'apiKey' } },
    ...overrides,
  };
}

/** A provider entry for a local mock provider at `openai.mock.test:<port>`, trusting the mock CA. */
export function mockProvider(
  port: number,
  ca: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return provider({
    endpoint: `https://openai.mock.test:${port}`,
    allowedCIDRs: ['127.0.0.1/32'],
    caBundle: ca,
    ...overrides,
  });
}

export function manifest(spec: Record<string, unknown>, name = 'test-policy'): Manifest {
  return { apiVersion: 'chaperone.dev/v1alpha1', kind: 'AIProviderPolicy', metadata: { name }, spec };
}

/** Validates (defaults, schema, CEL); throws with the field errors otherwise. */
export function validated(spec: Record<string, unknown>, name?: string): AIProviderPolicy {
  const result = validatePolicy(manifest(spec, name));
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.policy;
}

/** Validates (defaults, schema, CEL) and compiles; throws with the field errors otherwise. */
export function compile(spec: Record<string, unknown>, name?: string): CompiledPolicy {
  const validated = validatePolicy(manifest(spec, name));
  if (!validated.ok) throw new Error(formatErrors(validated.errors));
  const compiled = compilePolicy(validated.policy);
  if (!compiled.ok) throw new Error(formatErrors(compiled.errors));
  return compiled.policy;
}
