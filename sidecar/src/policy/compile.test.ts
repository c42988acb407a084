import { describe, expect, it } from '@jest/globals';
import { validatePolicy } from '../../../api/src/policy/validate.ts';
import { compile, manifest, provider } from '../../test/policies.ts';
import { compilePolicy } from './compile.ts';
import { DEFAULT_PATHS } from './defaults.ts';

describe('compilePolicy', () => {
  it('fills in the default paths of the provider type, under the endpoint path', () => {
    const policy = compile({
      providers: [
        provider(),
        provider({ name: 'gw', type: 'generic', endpoint: 'https://gw.example.com/llm/' }),
        provider({ name: 'proxy', type: 'anthropic', endpoint: 'https://gw.example.com/anthropic' }),
      ],
    });
    const [openai, gw, proxy] = policy.providers;
    expect(openai!.paths.patterns).toEqual(DEFAULT_PATHS.openai);
    expect(openai!.pathsDefaulted).toBe(true);
    expect(gw!.paths.patterns).toEqual(['/llm/*']);
    expect(gw!.basePath).toBe('/llm');
    expect(proxy!.paths.matches('/anthropic/v1/messages')).toBe(true);
    expect(proxy!.paths.matches('/v1/messages')).toBe(false);
  });

  it('keeps explicit paths as full upstream paths, percent-decoded', () => {
    const policy = compile({ providers: [provider({ allowedPaths: ['/v1/a%20b', '/v1/x/*'] })] });
    expect(policy.providers[0]!.paths.matches('/v1/a b')).toBe(true);
    expect(policy.providers[0]!.pathsDefaulted).toBe(false);
  });

  it('splits the endpoint into origin, host, port and base path', () => {
    const policy = compile({ providers: [provider({ endpoint: 'https://llm.example.com:8443/openai' })] });
    expect(policy.providers[0]).toMatchObject({
      origin: 'https://llm.example.com:8443',
      host: 'llm.example.com',
      port: 8443,
      basePath: '/openai',
    });
  });

  it('matches the endpoint host and allowedHosts, wildcards on a label boundary', () => {
    const policy = compile({
      providers: [provider({ allowedHosts: ['*.openai.azure.com', 'files.example.com'] })],
    });
    const hosts = policy.providers[0]!.hosts;
    expect(
      ['api.openai.com', 'x.openai.azure.com', 'a.b.openai.azure.com', 'files.example.com'].map((h) =>
        hosts.matches(h),
      ),
    ).toEqual([true, true, true, true]);
    expect(
      ['openai.azure.com', 'xopenai.azure.com', 'openai.azure.com.evil.com', 'api.openai.com.evil.com'].map(
        (h) => hosts.matches(h),
      ),
    ).toEqual([false, false, false, false]);
  });

  it('refuses an endpoint that is an IP literal, naming the field', () => {
    const validated = validatePolicy(manifest({ providers: [provider({ endpoint: 'https://10.0.0.1' })] }));
    if (!validated.ok) throw new Error('the schema accepts this endpoint; compile is what refuses it');
    expect(compilePolicy(validated.policy)).toEqual({
      ok: false,
      errors: [
        {
          path: 'spec.providers[0].endpoint',
          message:
            'endpoint must name a host: IP literal "10.0.0.1" (10.0.0.1): allowlists name hosts, not addresses',
        },
      ],
    });
  });

  it('changes the fingerprint with the spec and the connection key with the upstream settings', () => {
    const a = compile({ providers: [provider()] });
    const b = compile({ providers: [provider({ allowedModels: ['x'] })] });
    const c = compile({ providers: [provider({ allowedCIDRs: ['10.0.0.0/8'] })] });
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(a.providers[0]!.connectionKey).toBe(b.providers[0]!.connectionKey);
    expect(a.providers[0]!.connectionKey).not.toBe(c.providers[0]!.connectionKey);
  });
});
