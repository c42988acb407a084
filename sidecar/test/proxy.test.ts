// The data plane against real HTTPS mock providers on loopback: credentials, paths, refusals and
// their audit lines, limits, Report mode, the admin endpoints, pooling and the single lookup.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { startAnthropicMock } from '../../test/mocks/anthropic.ts';
import { OPENAI_REPLY, startOpenAiMock } from '../../test/mocks/openai.ts';
import { createCa } from '../../hack/cluster/pki.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import { sendJson, type MockProvider } from '../../test/mocks/provider.ts';
import { provider } from './policies.ts';
import { httpCall, startHarness, type Harness } from './harness.ts';

const OPENAI_KEY = 'sk-openai-secret-0123456789';
const ANTHROPIC_KEY = 'sk-ant-secret-9876543210';
const AZURE_KEY = 'azure-secret-55555';

let openai: MockProvider;
let anthropic: MockProvider;
let h: Harness;
let ca: string;

const json = (body: unknown): { headers: Record<string, string>; body: string } => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const chat = (model = 'gpt-4o-mini', extra: object = {}): ReturnType<typeof json> =>
  json({ model, messages: [{ role: 'user', content: 'say hello' }], ...extra });

function spec(overrides: { openai?: object; policy?: object } = {}): Record<string, unknown> {
  const local = { allowedCIDRs: ['127.0.0.1/32'], caBundle: ca };
  return {
    ...overrides.policy,
    providers: [
      provider({
        endpoint: `https://openai.mock.test:${openai.port}`,
        allowedModels: ['gpt-4o-mini', 'mock-*'],
        ...local,
        ...overrides.openai,
      }),
      provider({
        name: 'claude',
        type: 'anthropic',
        endpoint: `https://anthropic.mock.test:${anthropic.port}`,
        credentials: { secretRef: { name: 'anthropic-key', key: 'apiKey' } },
        ...local,
      }),
      provider({
        name: 'azure',
        type: 'azure-openai',
        endpoint: `https://azure.mock.test:${openai.port}`,
        credentials: { secretRef: { name: 'azure-key', key: 'apiKey' } },
        ...local,
      }),
      provider({
        name: 'gw',
        type: 'generic',
        endpoint: `https://openai.mock.test:${openai.port}/gateway`,
        credentials: { secretRef: { name: 'gw-key', key: 'apiKey' } },
        ...local,
      }),
      provider({
        name: 'wif',
        type: 'azure-openai',
        endpoint: `https://azure.mock.test:${openai.port}`,
        credentials: {
          workloadIdentity: {
            exchange: 'azure',
            audience: 'api://AzureADTokenExchange',
            tenantID: 't',
            clientID: 'c',
          },
        },
        ...local,
      }),
      provider({
        name: 'flip',
        endpoint: `https://flip.mock.test:${openai.port}`,
        credentials: { secretRef: { name: 'flip-key', key: 'apiKey' } },
        ...local,
      }),
    ],
  };
}
const KEYS = { openai: OPENAI_KEY, claude: ANTHROPIC_KEY, azure: AZURE_KEY, gw: 'gw-key', flip: OPENAI_KEY };

beforeAll(async () => {
  ca = (await mockPki()).ca;
  openai = await startOpenAiMock({ acceptKeys: [OPENAI_KEY] });
  anthropic = await startAnthropicMock({ acceptKeys: [ANTHROPIC_KEY] });
  h = await startHarness({
    resolver: {
      '*.mock.test': ['127.0.0.1'],
      'flip.mock.test': (n) => (n === 0 ? ['127.0.0.1'] : ['169.254.169.254']),
    },
  });
  h.setPolicy(spec(), KEYS);
});

afterAll(async () => {
  await h.close();
  await openai.close();
  await anthropic.close();
});

const last = (mock: MockProvider): MockProvider['requests'][number] =>
  mock.requests[mock.requests.length - 1]!;

describe('credentials', () => {
  it("replaces the app's auth with the OpenAI key as a Bearer token", async () => {
    const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), {
      method: 'POST',
      headers: {
        ...chat().headers,
        authorization: 'Bearer app-placeholder',
        'x-api-key': 'app-junk',
        cookie: 'session=abc',
      },
      body: chat().body,
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { content: OPENAI_REPLY } }],
    });
    const seen = last(openai).headers;
    expect(seen.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(seen['x-api-key']).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(seen.host).toBe(`openai.mock.test:${openai.port}`);
  });

  it('sends the Anthropic key as x-api-key and nothing in Authorization', async () => {
    const body = json({
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const r = await httpCall(h.endpoint('/claude/v1/messages'), {
      method: 'POST',
      headers: {
        ...body.headers,
        'anthropic-version': '2023-06-01',
        authorization: 'Bearer app',
        'x-api-key': 'app',
      },
      body: body.body,
    });
    expect(r.status).toBe(200);
    const seen = last(anthropic).headers;
    expect(seen['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(seen.authorization).toBeUndefined();
    expect(seen['anthropic-version']).toBe('2023-06-01');
  });

  it('sends the Azure OpenAI key as api-key, to the deployment path, query kept', async () => {
    openai.next((_req, res: ServerResponse) => sendJson(res, 200, { ok: true }));
    const r = await httpCall(
      h.endpoint('/azure/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21'),
      {
        method: 'POST',
        headers: { ...chat().headers, 'api-key': 'app-placeholder' },
        body: chat().body,
      },
    );
    expect(r.status).toBe(200);
    const seen = last(openai);
    expect(seen.path).toBe('/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe(AZURE_KEY);
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('refuses workload-identity providers until the token exchange exists', async () => {
    const r = await httpCall(h.endpoint('/wif/openai/deployments/d/chat/completions'), {
      method: 'POST',
      ...chat(),
    });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({
      code: 'IDENTITY_UNAVAILABLE',
      provider: 'wif',
      rule: 'spec.providers[4].credentials.workloadIdentity',
    });
  });

  it('never returns the key when the provider echoes it', async () => {
    const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), {
      method: 'POST',
      ...chat('mock-echo-auth'),
    });
    expect(r.status).toBe(401);
    expect(r.body).not.toContain(OPENAI_KEY);
    expect(r.body).toContain('authorization=Bearer [redacted]');
    expect(r.headers['x-echo-auth']).toBeUndefined();
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
  });
  it('never returns the key inside a compressed error body either', async () => {
    openai.next((req, res: ServerResponse) => {
      const body = gzipSync(
        JSON.stringify({ error: { message: `bad key ${String(req.headers.authorization)}` } }),
      );
      res.writeHead(401, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      res.end(body);
    });
    const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), { method: 'POST', ...chat() });
    expect(r.status).toBe(401);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(r.body)).toEqual({ error: { message: 'bad key Bearer [redacted]' } });
  });
});

describe('paths and the endpoint prefix', () => {
  it("prepends the endpoint's own path and forwards the query untouched", async () => {
    openai.next((_req, res: ServerResponse) => sendJson(res, 200, { data: [] }));
    const r = await httpCall(h.endpoint('/gw/v1/models?limit=2&after=x%20y'), { headers: {} });
    expect(r.status).toBe(200);
    expect(last(openai).path).toBe('/gateway/v1/models?limit=2&after=x%20y');
    expect(last(openai).headers.authorization).toBe('Bearer gw-key');
  });

  it('forwards the dot-normalised path it checked', async () => {
    const r = await httpCall(h.endpoint('/openai/v1/chat/./completions'), { method: 'POST', ...chat() });
    expect(r.status).toBe(200);
    expect(last(openai).path).toBe('/v1/chat/completions');
  });
});

describe('refusals', () => {
  it('answers with the documented JSON body, headers and one audit line', async () => {
    const before = openai.requests.length;
    const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), { method: 'POST', ...chat('gpt-5') });
    expect(r.status).toBe(403);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-chaperone-refusal']).toBe('EGRESS_DENIED');
    const body = JSON.parse(r.body) as Record<string, unknown>;
    expect(body).toEqual({
      code: 'EGRESS_DENIED',
      reason: 'model gpt-5 is not allowed for provider openai (allowed: gpt-4o-mini, mock-*)',
      policy: 'test-policy',
      provider: 'openai',
      rule: 'spec.providers[0].allowedModels',
      requestId: r.headers['x-chaperone-request-id'],
    });
    expect(openai.requests.length).toBe(before);
    const audits = h.audits().filter((l) => l.requestId === body.requestId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      msg: 'refused',
      result: 'deny',
      code: 'EGRESS_DENIED',
      policy: 'test-policy',
      'chaperone.provider': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-5',
      'http.request.method': 'POST',
      'http.response.status_code': 403,
      'url.path': '/v1/chat/completions',
    });
  });

  it('names the unknown provider and the ones that exist', async () => {
    const r = await httpCall(h.endpoint('/mistral/v1/chat/completions'), { method: 'POST', ...chat() });
    expect(JSON.parse(r.body)).toMatchObject({
      code: 'EGRESS_DENIED',
      provider: 'mistral',
      reason:
        'no provider named "mistral" in policy test-policy (it declares: openai, claude, azure, gw, wif, flip)',
    });
  });

  it('refuses bodies over maxRequestBytes with 413, declared or chunked', async () => {
    h.setPolicy(spec({ openai: { limits: { maxRequestBytes: 64 } } }), KEYS);
    try {
      const declared = await httpCall(h.endpoint('/openai/v1/chat/completions'), {
        method: 'POST',
        ...chat(),
      });
      expect(declared.status).toBe(413);
      expect(JSON.parse(declared.body)).toMatchObject({
        code: 'REQUEST_TOO_LARGE',
        rule: 'spec.providers[0].limits.maxRequestBytes',
      });
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          h.endpoint('/openai/v1/chat/completions'),
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
            agent: false,
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 10; i++) req.write('{"padding":"0123456789"}');
        req.end();
      });
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.body)).toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    } finally {
      h.setPolicy(spec(), KEYS);
    }
  });

  it('limits requests per minute with 429', async () => {
    h.setPolicy(spec({ openai: { name: 'limited', limits: { requestsPerMinute: 2 } } }), {
      ...KEYS,
      limited: OPENAI_KEY,
    });
    try {
      const statuses: number[] = [];
      let refusal: Record<string, unknown> = {};
      for (let i = 0; i < 3; i++) {
        const r = await httpCall(h.endpoint('/limited/v1/chat/completions'), { method: 'POST', ...chat() });
        statuses.push(r.status);
        if (r.status === 429) refusal = JSON.parse(r.body) as Record<string, unknown>;
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(refusal).toMatchObject({
        code: 'RATE_LIMITED',
        rule: 'spec.providers[0].limits.requestsPerMinute',
      });
    } finally {
      h.setPolicy(spec(), KEYS);
    }
  });

  it('limits tokens per minute from the usage providers report, across policy changes', async () => {
    const keys = { ...KEYS, tokens: OPENAI_KEY };
    h.setPolicy(spec({ openai: { name: 'tokens' } }), keys);
    try {
      const call = (): Promise<{ status: number; body: string }> =>
        httpCall(h.endpoint('/tokens/v1/chat/completions'), { method: 'POST', ...chat() });
      const first = await call();
      const used = (JSON.parse(first.body) as { usage: { total_tokens: number } }).usage.total_tokens;
      // The limiter outlives the policy: the first call's tokens still count under the new limit.
      // Each request is estimated at 3 tokens ('say hello' / 4, rounded up) and settles at the
      // usage reported: used + 3 fits in 2 × used + 2, 2 × used + 3 does not.
      h.setPolicy(spec({ openai: { name: 'tokens', limits: { tokensPerMinute: 2 * used + 2 } } }), keys);
      const second = await call();
      const third = await call();
      expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
      expect(JSON.parse(third.body)).toMatchObject({
        code: 'RATE_LIMITED',
        rule: 'spec.providers[0].limits.tokensPerMinute',
      });
      expect(last(openai).headers['accept-encoding']).toBe('identity');
    } finally {
      h.setPolicy(spec(), KEYS);
    }
  });
});

describe('Report mode', () => {
  it('lets a would-be refusal through and records it', async () => {
    h.setPolicy(spec({ policy: { mode: 'Report' } }), KEYS);
    try {
      const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), {
        method: 'POST',
        ...chat('gpt-5'),
      });
      expect(r.status).toBe(200);
      const id = r.headers['x-chaperone-request-id'];
      expect(h.audits().find((l) => l.requestId === id)).toMatchObject({
        msg: 'would refuse (report mode)',
        result: 'report',
        code: 'EGRESS_DENIED',
        rule: 'spec.providers[0].allowedModels',
      });
    } finally {
      h.setPolicy(spec(), KEYS);
    }
  });
});

describe('the forward proxy, absolute-form', () => {
  it('applies the full policy and the credential, and always speaks TLS upstream', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: h.sidecar.ports.forwardProxy,
          method: 'POST',
          path: `http://openai.mock.test:${openai.port}/v1/chat/completions`,
          headers: {
            ...chat().headers,
            host: `openai.mock.test:${openai.port}`,
            authorization: 'Bearer app',
          },
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(chat().body);
    });
    expect(r.status).toBe(200);
    expect(last(openai).headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });
});

describe('upstream connections', () => {
  it("fails closed on a certificate it cannot verify: another CA's, or one that does not name the host", async () => {
    const otherCa = (await createCa('not-the-providers-ca', 1)).cert.toString('pem');
    const cases = [
      // The provider's certificate chains to the mock CA, not to the caBundle the policy trusts.
      { name: 'other-ca', overrides: { caBundle: otherCa }, reason: /certificate/i },
      // A PEM block Node cannot read leaves no trust anchor at all (the policy only checks the header).
      {
        name: 'unreadable-ca',
        overrides: { caBundle: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' },
        reason: /certificate/i,
      },
      // *.mock.test covers one label: deep.openai.mock.test is not a name the certificate holds.
      {
        name: 'wrong-name',
        overrides: { endpoint: `https://deep.openai.mock.test:${openai.port}` },
        reason: /altnames|Hostname\/IP does not match/,
      },
    ];
    for (const c of cases) {
      h.setPolicy(spec({ openai: { name: c.name, ...c.overrides } }), { ...KEYS, [c.name]: OPENAI_KEY });
      try {
        const before = openai.requests.length;
        const r = await httpCall(h.endpoint(`/${c.name}/v1/chat/completions`), { method: 'POST', ...chat() });
        expect(r.status).toBe(502);
        const body = JSON.parse(r.body) as { code: string; provider: string; reason: string };
        expect(body).toMatchObject({ code: 'UPSTREAM_ERROR', provider: c.name });
        expect(body.reason).toMatch(c.reason);
        expect(r.body).not.toContain(OPENAI_KEY);
        // The handshake failed before any request: the provider saw neither the prompt nor the key.
        expect(openai.requests.length).toBe(before);
      } finally {
        h.setPolicy(spec(), KEYS);
      }
    }
  });

  it('reuses pooled connections per provider origin', async () => {
    h.setPolicy(spec({ openai: { name: 'pooled' } }), { ...KEYS, pooled: OPENAI_KEY });
    try {
      const before = openai.connections;
      for (let i = 0; i < 20; i++) {
        const r = await httpCall(h.endpoint('/pooled/v1/chat/completions'), { method: 'POST', ...chat() });
        expect(r.status).toBe(200);
      }
      expect(openai.connections - before).toBe(1);
    } finally {
      h.setPolicy(spec(), KEYS);
    }
  });

  it('resolves once per connection and dials only the address it checked', async () => {
    const dialsBefore = h.dials.length;
    for (let i = 0; i < 5; i++) {
      const r = await httpCall(h.endpoint('/flip/v1/chat/completions'), { method: 'POST', ...chat() });
      expect(r.status).toBe(200);
    }
    expect(h.resolver.calls.get('flip.mock.test')).toBe(1);
    expect(h.dials.slice(dialsBefore)).toEqual([{ host: 'flip.mock.test', address: '127.0.0.1' }]);
  });
});

describe('admin', () => {
  it('serves healthz, readyz, status and metrics', async () => {
    const admin = (path: string): Promise<{ status: number; body: string }> =>
      httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}${path}`);
    expect(await admin('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await admin('/readyz')).toMatchObject({ status: 200 });
    const status = JSON.parse((await admin('/status')).body) as Record<string, unknown>;
    expect(status).toMatchObject({
      ready: true,
      policy: { name: 'test-policy', mode: 'Enforce', killSwitch: false },
      lastError: null,
      listeners: h.sidecar.ports,
    });
    expect((status.providers as { name: string; breaker: string }[]).map((p) => [p.name, p.breaker])).toEqual(
      [
        ['openai', 'closed'],
        ['claude', 'closed'],
        ['azure', 'closed'],
        ['gw', 'closed'],
        ['wif', 'closed'],
        ['flip', 'closed'],
      ],
    );
    const metrics = (await admin('/metrics')).body;
    expect(metrics).toMatch(
      /chaperone_requests_total\{provider="openai",via="endpoint",result="allow",code="none"\} \d+/,
    );
    expect(metrics).toMatch(
      /chaperone_requests_total\{provider="openai",via="endpoint",result="deny",code="EGRESS_DENIED"\} \d+/,
    );
    expect(metrics).toContain('chaperone_circuit_breaker_state{provider="openai"} 0');
    expect(metrics).toMatch(/chaperone_policy_generation \d+/);
    expect(metrics).toContain('chaperone_policy_loaded 1');
    expect(metrics).toMatch(/chaperone_tokens_total\{provider="openai",type="output"\} \d+/);
    expect(await admin('/nope')).toMatchObject({ status: 404 });
  });
});

describe('without a policy', () => {
  it('is not ready and refuses everything with POLICY_NOT_LOADED', async () => {
    const empty = await startHarness({});
    try {
      const r = await httpCall(empty.endpoint('/openai/v1/models'));
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ code: 'POLICY_NOT_LOADED', policy: null });
      const ready = await httpCall(`http://127.0.0.1:${empty.sidecar.ports.admin}/readyz`);
      expect(ready.status).toBe(503);
      const healthy = await httpCall(`http://127.0.0.1:${empty.sidecar.ports.admin}/healthz`);
      expect(healthy.status).toBe(200);
    } finally {
      await empty.close();
    }
  });
});

describe('logs', () => {
  it('never carry a key, in any line of this run', () => {
    const text = h.logText();
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, AZURE_KEY]) expect(text).not.toContain(secret);
  });
});
