// The official openai and @anthropic-ai/sdk clients, unmodified, in child processes configured only
// through their environment — as an app in an injected pod is — against the sidecar and HTTPS mock
// providers speaking the real wire formats. Base-URL mode (the full policy: the sidecar holds the
// key) and HTTPS_PROXY mode (CONNECT: TLS end to end, so the app's own key travels and the sidecar
// checks host, port, addresses and SNI only).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANTHROPIC_REPLY, startAnthropicMock } from '../../test/mocks/anthropic.ts';
import { OPENAI_REPLY, replyPieces, startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { provider } from './policies.ts';
import { startHarness, type Harness } from './harness.ts';

const OPENAI_KEY = 'sk-proj-sidecar-held-openai-key-1234';
const ANTHROPIC_KEY = 'sk-ant-api03-sidecar-held-anthropic-key-5678';
/** What the app holds in base-URL mode: a placeholder, never a secret. */
const PLACEHOLDER = 'chaperone-managed-placeholder';
/** The app's own key in HTTPS_PROXY mode (TLS end to end: the sidecar cannot swap it). */
const APP_OWN_KEY = 'sk-app-own-key-for-connect-mode-9999';

const APP = new URL('./sdk-app.ts', import.meta.url).pathname;
let openai: MockProvider;
let anthropic: MockProvider;
let h: Harness;
let dir: string;
let caFile: string;
let baseSpec: Record<string, unknown>;
const KEYS = { openai: OPENAI_KEY, anthropic: ANTHROPIC_KEY };

type Outcome = Record<string, unknown> & { ok: boolean };

/** Runs one scenario of the SDK app with exactly `env` (plus PATH). */
function runApp(scenario: string, env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [APP, scenario],
      { env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: caFile, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err && !stdout) {
          reject(new Error(`${scenario} failed: ${err.message}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Outcome);
      },
    );
  });
}

beforeAll(async () => {
  const pki = await mockPki();
  dir = mkdtempSync(join(tmpdir(), 'chaperone-sdk-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pki.ca);
  openai = await startOpenAiMock({ acceptKeys: [OPENAI_KEY, APP_OWN_KEY] });
  anthropic = await startAnthropicMock({ acceptKeys: [ANTHROPIC_KEY, APP_OWN_KEY] });
  h = await startHarness({
    resolver: { 'openai.mock.test': ['127.0.0.1'], 'anthropic.mock.test': ['127.0.0.1'] },
  });
  const local = { allowedCIDRs: ['127.0.0.1/32'], caBundle: pki.ca };
  baseSpec = {
    providers: [
      provider({
        endpoint: `https://openai.mock.test:${openai.port}`,
        allowedModels: ['gpt-4o-mini', 'mock-*'],
        ...local,
      }),
      provider({
        name: 'anthropic',
        type: 'anthropic',
        endpoint: `https://anthropic.mock.test:${anthropic.port}`,
        allowedModels: ['claude-sonnet-4-*'],
        credentials: { secretRef: { name: 'anthropic-key', key: 'apiKey' } },
        ...local,
      }),
    ],
  };
  h.setPolicy(baseSpec, KEYS);
});

afterAll(async () => {
  await h.close();
  await openai.close();
  await anthropic.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('base-URL mode: the SDK talks to http://127.0.0.1:15000/<provider>', () => {
  const openaiEnv = (): Record<string, string> => ({
    OPENAI_BASE_URL: `http://127.0.0.1:${h.sidecar.ports.providers}/openai/v1`,
    OPENAI_API_KEY: PLACEHOLDER,
  });
  const anthropicEnv = (): Record<string, string> => ({
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${h.sidecar.ports.providers}/anthropic`,
    ANTHROPIC_API_KEY: PLACEHOLDER,
  });

  it('openai: chat completion, with the key the sidecar holds', async () => {
    const before = openai.requests.length;
    const outcome = await runApp('openai-chat', openaiEnv());
    expect(outcome).toMatchObject({
      ok: true,
      content: OPENAI_REPLY,
      usage: { completion_tokens: replyPieces(OPENAI_REPLY).length },
    });
    const seen = openai.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(seen[0]!.headers['user-agent']).toMatch(/^OpenAI\/JS/);
  });

  it('openai: streamed chat completion, every chunk and the usage chunk', async () => {
    const outcome = await runApp('openai-stream', openaiEnv());
    // role chunk + one per piece + finish chunk + usage chunk
    expect(outcome).toMatchObject({
      ok: true,
      content: OPENAI_REPLY,
      chunks: replyPieces(OPENAI_REPLY).length + 3,
    });
    expect(outcome.usage).toMatchObject({ completion_tokens: replyPieces(OPENAI_REPLY).length });
  });

  it('openai: a refusal reaches the app as an APIError carrying the refusal body', async () => {
    const outcome = await runApp('openai-refused', openaiEnv());
    expect(outcome).toMatchObject({
      ok: false,
      errorClass: 'PermissionDeniedError',
      status: 403,
      body: { code: 'EGRESS_DENIED', provider: 'openai', rule: 'spec.providers[0].allowedModels' },
    });
  });

  it('openai: a stream that breaks upstream raises in the app', async () => {
    const outcome = await runApp('openai-broken-stream', openaiEnv());
    // The SDK raises on the sidecar's `event: error`, with its body.
    expect(outcome).toMatchObject({
      ok: false,
      errorClass: 'APIError',
      body: { type: 'upstream_error', code: 'UPSTREAM_ERROR' },
    });
    expect(outcome.message).toMatch(/^the provider could not be reached or failed \(UND_ERR_SOCKET/);
  });

  it('anthropic: message, with x-api-key from the sidecar', async () => {
    const before = anthropic.requests.length;
    const outcome = await runApp('anthropic-message', anthropicEnv());
    expect(outcome).toMatchObject({ ok: true, content: ANTHROPIC_REPLY, usage: { input_tokens: 8 } });
    const seen = anthropic.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('anthropic: streamed message, every text delta', async () => {
    const outcome = await runApp('anthropic-stream', anthropicEnv());
    expect(outcome).toMatchObject({
      ok: true,
      content: ANTHROPIC_REPLY,
      deltas: replyPieces(ANTHROPIC_REPLY).length,
      usage: { output_tokens: replyPieces(ANTHROPIC_REPLY).length },
    });
  });

  it('anthropic: a model outside the allowlist is refused with the body the app can log', async () => {
    const outcome = await runApp('anthropic-refused', anthropicEnv());
    expect(outcome).toMatchObject({
      ok: false,
      status: 403,
      body: { code: 'EGRESS_DENIED', provider: 'anthropic', rule: 'spec.providers[1].allowedModels' },
    });
  });
});

describe('guards on what the SDK receives', () => {
  it('a tool call the policy blocks ends the stream with an error event the SDK raises', async () => {
    h.setPolicy({ ...baseSpec, guards: { tools: { allowed: ['lookup_order'], action: 'Block' } } }, KEYS);
    try {
      const chunk = (delta: object, finish: string | null = null): string =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      openai.next((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(
          chunk({ role: 'assistant', content: 'Sure, ' }) +
            chunk({
              tool_calls: [
                {
                  index: 0,
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'delete_all', arguments: '{}' },
                },
              ],
            }) +
            chunk({}, 'tool_calls') +
            'data: [DONE]\n\n',
        );
      });
      const outcome = await runApp('openai-stream', {
        OPENAI_BASE_URL: `http://127.0.0.1:${h.sidecar.ports.providers}/openai/v1`,
        OPENAI_API_KEY: PLACEHOLDER,
      });
      expect(outcome).toMatchObject({ ok: false, errorClass: 'APIError' });
      expect(outcome.message).toContain('tool delete_all not allowed');
      expect(h.audits().at(-1)).toMatchObject({ result: 'deny', code: 'GUARD_BLOCKED' });
    } finally {
      h.setPolicy(baseSpec, KEYS);
    }
  });
});

describe('HTTPS_PROXY mode: the SDK calls the provider through CONNECT on :15001', () => {
  const proxied = (extra: Record<string, string>): Record<string, string> => ({
    HTTPS_PROXY: `http://127.0.0.1:${h.sidecar.ports.forwardProxy}`,
    NODE_USE_ENV_PROXY: '1',
    ...extra,
  });

  it('openai: streamed chat completion through the tunnel; the app key is what arrives', async () => {
    const before = openai.requests.length;
    const tunnelsBefore = h.audits().filter((l) => l.via === 'connect').length;
    const outcome = await runApp(
      'openai-stream',
      proxied({ OPENAI_BASE_URL: `https://openai.mock.test:${openai.port}/v1`, OPENAI_API_KEY: APP_OWN_KEY }),
    );
    expect(outcome).toMatchObject({ ok: true, content: OPENAI_REPLY });
    const seen = openai.requests.slice(before);
    expect(seen).toHaveLength(1);
    // Honest about CONNECT: TLS is end to end, the sidecar cannot add or swap credentials.
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${APP_OWN_KEY}`);
    const tunnels = h
      .audits()
      .filter((l) => l.via === 'connect')
      .slice(tunnelsBefore);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    expect(tunnels[0]).toMatchObject({
      result: 'allow',
      'server.address': 'openai.mock.test',
      'server.port': openai.port,
      'chaperone.provider': 'openai',
      'http.response.status_code': 200,
    });
    expect(tunnels[0]!['http.response.body.size']).toBeGreaterThan(0);
  });

  it('anthropic: message through the tunnel', async () => {
    const outcome = await runApp(
      'anthropic-message',
      proxied({
        ANTHROPIC_BASE_URL: `https://anthropic.mock.test:${anthropic.port}`,
        ANTHROPIC_API_KEY: APP_OWN_KEY,
      }),
    );
    expect(outcome).toMatchObject({ ok: true, content: ANTHROPIC_REPLY });
    // This SDK sends its key as a Bearer token; through the tunnel it arrives as the app sent it.
    expect(anthropic.requests[anthropic.requests.length - 1]!.headers.authorization).toBe(
      `Bearer ${APP_OWN_KEY}`,
    );
  });

  it('a host outside the policy is refused at CONNECT and the SDK reports a connection error', async () => {
    const before = openai.requests.length;
    const outcome = await runApp(
      'openai-refused',
      proxied({ OPENAI_BASE_URL: `https://evil.mock.test:${openai.port}/v1`, OPENAI_API_KEY: APP_OWN_KEY }),
    );
    expect(outcome).toMatchObject({ ok: false, errorClass: 'APIConnectionError' });
    expect(openai.requests.length).toBe(before);
    expect(
      h
        .audits()
        .reverse()
        .find((l) => l.via === 'connect'),
    ).toMatchObject({
      result: 'deny',
      code: 'EGRESS_DENIED',
      'server.address': 'evil.mock.test',
    });
  });
});

describe('secrets', () => {
  it('never appear in any log line of the whole run', () => {
    const text = h.logText();
    expect(h.audits().length).toBeGreaterThan(8);
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, APP_OWN_KEY]) expect(text).not.toContain(secret);
  });
});
