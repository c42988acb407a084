// Rate limits on real sockets under concurrency: many requests at once against requestsPerMinute
// and tokensPerMinute, and never more reach the provider than the limits allow (reservations are
// taken synchronously before the call, settled with the reported usage after). A cost burst is
// reported or refused per guards.costBurst.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { mockProvider } from './policies.ts';
import { httpCall, startHarness, type Harness } from './harness.ts';

const KEY = 'sk-rate-limits-test-5150';
let mock: MockProvider;
let h: Harness;
let ca: string;

function spec(name: string, limits: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    providers: [mockProvider(mock.port, ca, { name, limits })],
  };
}

/** `n` chat completions at once; each asks for at most 20 output tokens. */
function burst(name: string, n: number): Promise<{ status: number; body: string }[]> {
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    max_tokens: 20,
    messages: [{ role: 'user', content: 'say hello' }],
  });
  return Promise.all(
    Array.from({ length: n }, () =>
      httpCall(h.endpoint(`/${name}/v1/chat/completions`), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    ),
  );
}

beforeAll(async () => {
  ca = (await mockPki()).ca;
  mock = await startOpenAiMock({ acceptKeys: [KEY], streamDelayMs: 1 });
  h = await startHarness({ resolver: { '*.mock.test': ['127.0.0.1'] }, connectionsPerOrigin: 16 });
});

afterAll(async () => {
  await h.close();
  await mock.close();
});

describe('rate limits under concurrency', () => {
  it('lets exactly requestsPerMinute of 60 concurrent requests through', async () => {
    h.setPolicy(spec('rpm', { requestsPerMinute: 10 }), { rpm: KEY });
    const before = mock.requests.length;
    const answers = await burst('rpm', 60);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(50);
    expect(JSON.parse(refused[0]!.body)).toMatchObject({
      code: 'RATE_LIMITED',
      provider: 'rpm',
      rule: 'spec.providers[0].limits.requestsPerMinute',
    });
    expect(mock.requests.length - before).toBe(10);
  });

  it('never lets the tokens of concurrent requests exceed tokensPerMinute', async () => {
    // Each request is estimated at 3 + 20 tokens: at most 8 fit in 200 at once; as they settle
    // with the (smaller) usage reported, later ones fit too — but the total never exceeds 200.
    h.setPolicy(spec('tpm', { tokensPerMinute: 200 }), { tpm: KEY });
    const answers = await burst('tpm', 60);
    const served = answers.filter((a) => a.status === 200);
    const used = served.reduce(
      (sum, a) => sum + (JSON.parse(a.body) as { usage: { total_tokens: number } }).usage.total_tokens,
      0,
    );
    expect(served.length).toBeGreaterThanOrEqual(8);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(200);
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
  });

  it('refuses a cost burst over guards.costBurst with action Block, and reports it otherwise', async () => {
    h.setPolicy(spec('burst', {}, { guards: { costBurst: { tokensPerMinute: 50, action: 'Block' } } }), {
      burst: KEY,
    });
    const answers = await burst('burst', 10);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(JSON.parse(refused[0]!.body)).toMatchObject({
      code: 'RATE_LIMITED',
      rule: 'spec.guards.costBurst',
    });
    h.setPolicy(spec('burst', {}, { guards: { costBurst: { tokensPerMinute: 50 } } }), { burst: KEY });
    const reported = await burst('burst', 3);
    expect(reported.every((a) => a.status === 200)).toBe(true);
    const audit = h.audits().at(-1)!;
    expect(audit).toMatchObject({ result: 'report', code: 'RATE_LIMITED', rule: 'spec.guards.costBurst' });
    const metrics = (await httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}/metrics`)).body;
    expect(metrics).toMatch(
      /chaperone_guard_detections_total\{provider="burst",guard="cost-burst",kind="tokensPerMinute",action="blocked",direction="request"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /chaperone_guard_detections_total\{provider="burst",guard="cost-burst",kind="tokensPerMinute",action="reported",direction="request"\} [1-9]/,
    );
  });
});
