// Failover on real sockets: when the primary's breaker opens (or its kill switch is thrown), requests
// for it are served by its declared failover provider, with that provider's own key.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { provider } from './policies.ts';
import { httpCall, startHarness, type Harness } from './harness.ts';

const PRIMARY_KEY = 'sk-primary-1111';
const BACKUP_KEY = 'sk-backup-2222';
let primary: MockProvider;
let backup: MockProvider;
let h: Harness;
let ca: string;

function spec(primaryOverrides: Record<string, unknown> = {}): Record<string, unknown> {
  const local = { allowedCIDRs: ['127.0.0.1/32'], caBundle: ca };
  return {
    providers: [
      provider({
        name: 'primary',
        endpoint: `https://primary.mock.test:${primary.port}`,
        credentials: { secretRef: { name: 'primary-key', key: 'apiKey' } },
        circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetSeconds: 60 },
        failover: ['backup'],
        ...local,
        ...primaryOverrides,
      }),
      provider({
        name: 'backup',
        endpoint: `https://backup.mock.test:${backup.port}`,
        credentials: { secretRef: { name: 'backup-key', key: 'apiKey' } },
        ...local,
      }),
    ],
  };
}
const KEYS = { primary: PRIMARY_KEY, backup: BACKUP_KEY };

const post = (model = 'gpt-4o-mini'): Promise<{ status: number; body: string }> =>
  httpCall(h.endpoint('/primary/v1/chat/completions'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });

beforeAll(async () => {
  ca = (await mockPki()).ca;
  primary = await startOpenAiMock({ acceptKeys: [PRIMARY_KEY] });
  backup = await startOpenAiMock({ acceptKeys: [BACKUP_KEY] });
  h = await startHarness({ resolver: { '*.mock.test': ['127.0.0.1'] } });
});

afterAll(async () => {
  await h.close();
  await primary.close();
  await backup.close();
});

describe('failover', () => {
  it('moves requests to the failover provider once the primary breaker opens', async () => {
    h.setPolicy(spec(), KEYS);
    expect((await post()).status).toBe(200);
    expect(primary.requests).toHaveLength(1);
    expect((await post('mock-500')).status).toBe(500);
    expect((await post('mock-500')).status).toBe(500);
    const primaryCalls = primary.requests.length;

    const r = await post();
    expect(r.status).toBe(200);
    expect(primary.requests).toHaveLength(primaryCalls); // the open breaker kept it away
    expect(backup.requests.at(-1)?.headers.authorization).toBe(`Bearer ${BACKUP_KEY}`);
    const audit = h.audits().at(-1)!;
    expect(JSON.stringify(audit)).toContain('failed over from primary (circuit open)');
  });

  it('moves requests to the failover provider while the primary kill switch is engaged', async () => {
    h.setPolicy(spec({ killSwitch: true, circuitBreaker: { volumeThreshold: 20 } }), KEYS);
    const before = backup.requests.length;
    const r = await post();
    expect(r.status).toBe(200);
    expect(backup.requests.length).toBe(before + 1);
    expect(JSON.stringify(h.audits().at(-1))).toContain('failed over from primary (kill switch)');
  });

  it('refuses with the primary refusal when the failover is down too', async () => {
    h.setPolicy(
      {
        providers: (spec({ killSwitch: true }).providers as Record<string, unknown>[]).map((p) => ({
          ...p,
          killSwitch: true,
        })),
      },
      KEYS,
    );
    const r = await post();
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'KILL_SWITCH_ENGAGED', provider: 'primary' });
  });
});
