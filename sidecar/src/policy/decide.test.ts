import { describe, expect, it } from '@jest/globals';
import { compile, provider } from '../../test/policies.ts';
import { decide, type RequestFacts, type UsageView } from './decide.ts';

const policy = compile({
  providers: [
    provider({
      allowedPaths: ['/v1/chat/completions', '/v1/embeddings', '/v1/models'],
      allowedMethods: ['GET', 'POST'],
      allowedModels: ['gpt-4o-mini', 'text-embedding-3-*'],
      limits: { requestsPerMinute: 10, tokensPerMinute: 1000, maxRequestBytes: 100 },
    }),
    provider({
      name: 'claude',
      type: 'anthropic',
      endpoint: 'https://api.anthropic.com',
      credentials: { secretRef: { name: 'anthropic-key', key: 'apiKey' } },
    }),
    provider({
      name: 'azure',
      type: 'azure-openai',
      endpoint: 'https://contoso.openai.azure.com',
      allowedHosts: ['*.openai.azure.com'],
      credentials: { secretRef: { name: 'azure-key', key: 'apiKey' } },
    }),
    provider({
      name: 'gateway',
      type: 'generic',
      endpoint: 'https://llm.internal.example:8443/openai',
      credentials: { secretRef: { name: 'gw', key: 'apiKey' } },
    }),
    provider({
      name: 'stopped',
      endpoint: 'https://stopped.example.com',
      killSwitch: true,
      credentials: { secretRef: { name: 'k', key: 'apiKey' } },
    }),
  ],
});

const usage = (requests: number, tokens = 0): UsageView => ({ current: () => ({ requests, tokens }) });
const endpoint = (providerName: string, path: string, extra: Partial<RequestFacts> = {}): RequestFacts => ({
  via: 'endpoint',
  providerName,
  method: 'POST',
  path,
  ...extra,
});
const model = (name: string): RequestFacts['model'] => ({ kind: 'model', model: name, source: 'body' });

describe('decide', () => {
  it.each<[string, RequestFacts, string, string | null, string]>([
    [
      'an allowed chat completion',
      endpoint('openai', '/v1/chat/completions', { model: model('gpt-4o-mini') }),
      'allow',
      null,
      'spec.providers[0]',
    ],
    [
      'a model prefix',
      endpoint('openai', '/v1/embeddings', { model: model('text-embedding-3-small') }),
      'allow',
      null,
      'spec.providers[0]',
    ],
    [
      'a request without a model (GET /v1/models)',
      endpoint('openai', '/v1/models', { method: 'GET', model: { kind: 'none' } }),
      'allow',
      null,
      'spec.providers[0]',
    ],
    [
      'an unknown provider',
      endpoint('mistral', '/v1/chat/completions'),
      'deny',
      'EGRESS_DENIED',
      'spec.providers',
    ],
    [
      'a path not listed',
      endpoint('openai', '/v1/files'),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedPaths',
    ],
    [
      'a path differing in case',
      endpoint('openai', '/V1/chat/completions'),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedPaths',
    ],
    [
      'a method not listed',
      endpoint('openai', '/v1/models', { method: 'DELETE' }),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedMethods',
    ],
    [
      'a model not listed',
      endpoint('openai', '/v1/chat/completions', { model: model('gpt-5') }),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedModels',
    ],
    [
      'a model that only starts like an allowed one',
      endpoint('openai', '/v1/chat/completions', { model: model('gpt-4o-mini-2') }),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedModels',
    ],
    [
      'an unreadable model',
      endpoint('openai', '/v1/chat/completions', { model: { kind: 'unreadable', why: 'dup' } }),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedModels',
    ],
    [
      'a body over maxRequestBytes',
      endpoint('openai', '/v1/chat/completions', { bodyBytes: 101 }),
      'deny',
      'REQUEST_TOO_LARGE',
      'spec.providers[0].limits.maxRequestBytes',
    ],
    [
      'the request limit reached',
      endpoint('openai', '/v1/chat/completions', { usage: usage(10) }),
      'deny',
      'RATE_LIMITED',
      'spec.providers[0].limits.requestsPerMinute',
    ],
    [
      'the token limit reached',
      endpoint('openai', '/v1/chat/completions', { usage: usage(1, 1000) }),
      'deny',
      'RATE_LIMITED',
      'spec.providers[0].limits.tokensPerMinute',
    ],
    [
      'under both limits',
      endpoint('openai', '/v1/chat/completions', { usage: usage(9, 999) }),
      'allow',
      null,
      'spec.providers[0]',
    ],
    ['the default anthropic paths', endpoint('claude', '/v1/messages'), 'allow', null, 'spec.providers[1]'],
    [
      'outside the default anthropic paths',
      endpoint('claude', '/v1/complete'),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[1].allowedPaths',
    ],
    [
      'the default azure deployments path',
      endpoint('azure', '/openai/deployments/gpt4o/chat/completions'),
      'allow',
      null,
      'spec.providers[2]',
    ],
    [
      'a generic endpoint path prefix',
      endpoint('gateway', '/openai/v1/chat/completions'),
      'allow',
      null,
      'spec.providers[3]',
    ],
    [
      'outside a generic endpoint path',
      endpoint('gateway', '/admin'),
      'deny',
      'EGRESS_DENIED',
      'spec.providers[3].allowedPaths',
    ],
    [
      'a provider kill switch',
      endpoint('stopped', '/v1/chat/completions'),
      'deny',
      'KILL_SWITCH_ENGAGED',
      'spec.providers[4].killSwitch',
    ],
    [
      'forward to the endpoint host',
      {
        via: 'forward',
        host: 'api.openai.com',
        method: 'POST',
        path: '/v1/chat/completions',
        model: model('gpt-4o-mini'),
      },
      'allow',
      null,
      'spec.providers[0]',
    ],
    [
      'forward to an unknown host',
      { via: 'forward', host: 'evil.example.com', method: 'GET', path: '/' },
      'deny',
      'EGRESS_DENIED',
      'spec.providers[].allowedHosts',
    ],
    [
      'forward to a path not listed',
      { via: 'forward', host: 'api.openai.com', method: 'GET', path: '/v1/files' },
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].allowedPaths',
    ],
    [
      'CONNECT to the endpoint',
      { via: 'connect', host: 'api.openai.com', port: 443 },
      'allow',
      null,
      'spec.providers[0]',
    ],
    [
      'CONNECT to a wildcard host',
      { via: 'connect', host: 'eastus.openai.azure.com', port: 443 },
      'allow',
      null,
      'spec.providers[2]',
    ],
    [
      'CONNECT to a wildcard apex',
      { via: 'connect', host: 'openai.azure.com', port: 443 },
      'deny',
      'EGRESS_DENIED',
      'spec.providers[].allowedHosts',
    ],
    [
      'CONNECT to a look-alike suffix',
      { via: 'connect', host: 'evilopenai.azure.com', port: 443 },
      'deny',
      'EGRESS_DENIED',
      'spec.providers[].allowedHosts',
    ],
    [
      'CONNECT to another port',
      { via: 'connect', host: 'api.openai.com', port: 22 },
      'deny',
      'EGRESS_DENIED',
      'spec.providers[0].endpoint',
    ],
    [
      'CONNECT to the endpoint port',
      { via: 'connect', host: 'llm.internal.example', port: 8443 },
      'allow',
      null,
      'spec.providers[3]',
    ],
    [
      'CONNECT to 443 of an 8443 endpoint',
      { via: 'connect', host: 'llm.internal.example', port: 443 },
      'deny',
      'EGRESS_DENIED',
      'spec.providers[3].endpoint',
    ],
  ])('%s', (_name, facts, result, code, rule) => {
    const decision = decide(policy, facts);
    expect({ result: decision.result, code: decision.code, rule: decision.rule }).toEqual({
      result,
      code,
      rule,
    });
    expect(decision.reason.length).toBeGreaterThan(10);
  });

  it('fails closed without a policy', () => {
    expect(decide(null, endpoint('openai', '/v1/models'))).toMatchObject({
      result: 'deny',
      code: 'POLICY_NOT_LOADED',
    });
  });

  it('applies the policy kill switch before anything else', () => {
    const killed = compile({ killSwitch: true, providers: [provider()] });
    expect(decide(killed, endpoint('nope', '/x'))).toMatchObject({
      result: 'deny',
      code: 'KILL_SWITCH_ENGAGED',
      rule: 'spec.killSwitch',
    });
  });

  it('names what it refused in the reason', () => {
    expect(decide(policy, endpoint('openai', '/v1/chat/completions', { model: model('gpt-5') })).reason).toBe(
      'model gpt-5 is not allowed for provider openai (allowed: gpt-4o-mini, text-embedding-3-*)',
    );
    expect(decide(policy, { via: 'connect', host: 'evil.example.com', port: 443 }).reason).toBe(
      'host evil.example.com is not allowed by policy test-policy',
    );
  });

  describe('in Report mode', () => {
    const report = compile({
      mode: 'Report',
      providers: [
        provider({ allowedModels: ['gpt-4o-mini'], limits: { requestsPerMinute: 1, maxRequestBytes: 10 } }),
      ],
    });

    it.each<[string, RequestFacts, string]>([
      [
        'a model not listed',
        endpoint('openai', '/v1/chat/completions', { model: model('gpt-5') }),
        'EGRESS_DENIED',
      ],
      ['a path not listed', endpoint('openai', '/v1/files'), 'EGRESS_DENIED'],
      ['an unknown host', { via: 'connect', host: 'evil.example.com', port: 443 }, 'EGRESS_DENIED'],
      ['the rate limit', endpoint('openai', '/v1/chat/completions', { usage: usage(1) }), 'RATE_LIMITED'],
    ])('lets %s through and records the would-be refusal', (_name, facts, code) => {
      expect(decide(report, facts)).toMatchObject({ result: 'report', code });
    });

    it.each<[string, RequestFacts, string]>([
      ['an unknown provider name', endpoint('mistral', '/v1/chat/completions'), 'EGRESS_DENIED'],
      [
        'a body too large',
        endpoint('openai', '/v1/chat/completions', { bodyBytes: 11 }),
        'REQUEST_TOO_LARGE',
      ],
    ])('still refuses %s', (_name, facts, code) => {
      expect(decide(report, facts)).toMatchObject({ result: 'deny', code });
    });

    it('still applies kill switches', () => {
      const killed = compile({ mode: 'Report', killSwitch: true, providers: [provider()] });
      expect(decide(killed, endpoint('openai', '/v1/models'))).toMatchObject({
        result: 'deny',
        code: 'KILL_SWITCH_ENGAGED',
      });
    });
  });
});
