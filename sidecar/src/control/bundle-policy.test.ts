import { describe, expect, it } from '@jest/globals';
import type { PolicyBundle } from '../../../api/src/bundle.ts';
import { validatePolicy } from '../../../api/src/policy/validate.ts';
import { loadBundle } from './bundle-policy.ts';

function policy(name: string, spec: Record<string, unknown>): PolicyBundle['policies'][number] {
  const result = validatePolicy({
    apiVersion: 'chaperone.dev/v1alpha1',
    kind: 'AIProviderPolicy',
    metadata: { name },
    spec,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return { name, uid: `uid-${name}`, generation: 4, spec: result.policy.spec };
}
const provider = (name: string, secret = `${name}-key`): Record<string, unknown> => ({
  name,
  type: 'openai',
  endpoint: `https://${name}.example.com`,
  credentials: { secretRef: { name: secret, key: 'apiKey' } },
});
const bundle = (policies: PolicyBundle['policies'], secrets: Record<string, string> = {}): PolicyBundle => ({
  revision: 'r1',
  namespace: 'team',
  pod: 'app-1',
  policies,
  secrets,
  missingSecrets: [],
});

const REQUEST = {
  method: 'POST',
  origin: 'https://api.openai.com:443',
  path: '/v1/chat/completions',
  body: undefined,
  requestId: 'r1',
};

describe('loadBundle', () => {
  it('compiles a single policy with its keys, keeping its name and generation', () => {
    const result = loadBundle(
      bundle([policy('checkout', { providers: [provider('openai')] })], { 'openai-key/apiKey': 'sk-1' }),
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.loaded.policy).toMatchObject({
      name: 'checkout',
      namespace: 'team',
      generation: 4,
      mode: 'Enforce',
    });
    const openai = result.loaded.policy.byName.get('openai')!;
    expect(result.loaded.credentials.headersFor(openai, REQUEST)).toEqual({ authorization: 'Bearer sk-1' });
  });

  it('merges several policies: each kill switch stays on its own providers; duplicates are reported', () => {
    const result = loadBundle(
      bundle([
        policy('a', { killSwitch: true, providers: [provider('openai')] }),
        policy('b', { mode: 'Report', providers: [provider('claude'), provider('openai', 'other')] }),
      ]),
    );
    if (!result.ok) throw new Error(result.message);
    const { policy: merged } = result.loaded;
    expect(merged.name).toBe('a+b');
    expect(merged.mode).toBe('Enforce'); // one policy enforces: the stricter reading wins
    expect(merged.byName.get('openai')?.killSwitch).toBe(true);
    expect(merged.byName.get('claude')?.killSwitch).toBe(false);
    expect(result.conflicts).toEqual(['provider openai of policy b is already declared by policy a']);
  });

  it('refuses requests for a provider whose Secret was missing, rather than calling without a key', () => {
    const result = loadBundle(bundle([policy('checkout', { providers: [provider('openai')] })]));
    if (!result.ok) throw new Error(result.message);
    const openai = result.loaded.policy.byName.get('openai')!;
    expect(() => result.loaded.credentials.headersFor(openai, REQUEST)).toThrow(
      expect.objectContaining({ code: 'IDENTITY_UNAVAILABLE' }),
    );
  });

  it('enforces nothing-allowed when no policy selects the pod', () => {
    const result = loadBundle(bundle([]));
    if (!result.ok) throw new Error(result.message);
    expect(result.loaded.policy.providers).toEqual([]);
    expect(result.loaded.policy.mode).toBe('Enforce');
  });
});
