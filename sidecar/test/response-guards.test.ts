// The response side of the data boundary in the proxy, on real sockets: placeholders restored in
// JSON and streamed answers, what the provider echoes reported, tool calls in a streamed answer
// blocked before they reach the app, audit content per spec.audit.content, and bad responses
// (not JSON, truncated, huge, deeply nested, invalid UTF-8, base64, compressed) passed on and
// accounted for — never a crash, never a silent skip.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { mockProvider } from './policies.ts';
import { httpCall, startHarness, type AuditLine, type Harness } from './harness.ts';

const KEY = 'sk-response-guards-test-7781';
const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const ECHOED = 'ops-lead@provider.example';
let mock: MockProvider;
let h: Harness;
let ca: string;

function spec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...extra,
    providers: [mockProvider(mock.port, ca)],
  };
}

const chatBody = (content: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'mock-echo', messages: [{ role: 'user', content }], ...extra });

/** POSTs a chat completion; the answer's bytes exactly as received. */
function chat(
  content: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      h.endpoint('/openai/v1/chat/completions'),
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(chatBody(content, extra));
  });
}

const lastAudit = (): AuditLine => h.audits().at(-1)!;

/** The next upstream answer: these bytes with this content type (and extra headers). */
function answerWith(contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void {
  mock.next((_req, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': contentType, ...headers });
    res.end(body);
  });
}

const sse = (events: unknown[]): string =>
  events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');

const chunk = (delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

beforeAll(async () => {
  ca = (await mockPki()).ca;
  mock = await startOpenAiMock({ acceptKeys: [KEY] });
  h = await startHarness({ resolver: { '*.mock.test': ['127.0.0.1'] } });
});

afterAll(async () => {
  await h.close();
  await mock.close();
});

describe('restore and echoes', () => {
  it('restores placeholders in a JSON answer; the provider only ever saw them', async () => {
    h.setPolicy(spec({ dataBoundary: { restoreInResponse: true } }), { openai: KEY });
    const r = await chat(`Mail ${EMAIL} about card ${CARD}`);
    expect(r.status).toBe(200);
    const answer = JSON.parse(r.bytes.toString()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]!.message.content).toBe(`You said: Mail ${EMAIL} about card ${CARD}`);
    expect(Number(r.headers['content-length'])).toBe(r.bytes.length);
    expect(mock.requests.at(-1)!.body).toContain('Mail [EMAIL_1] about card [CREDIT_CARD_1]');
    expect(lastAudit()).toMatchObject({ 'chaperone.response.restored': 2, result: 'allow' });
    // Usage is read from the body the guard parsed (as the provider sent it), not decoded twice.
    const usage = (JSON.parse(r.bytes.toString()) as { usage: { prompt_tokens: number } }).usage;
    expect(lastAudit()).toMatchObject({
      'gen_ai.response.model': 'mock-echo',
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': expect.any(Number),
    });
    expect(lastAudit()['chaperone.response.detected']).toBeUndefined(); // the app's own values
    expect(h.logText()).not.toContain(EMAIL);
  });

  it('restores placeholders split across streamed deltas', async () => {
    h.setPolicy(spec({ dataBoundary: { restoreInResponse: true } }), { openai: KEY });
    const r = await chat(`Mail ${EMAIL} now`, { stream: true });
    const text = r.bytes
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map(
        (l) =>
          (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta
            .content ?? '',
      )
      .join('');
    expect(text).toBe(`You said: Mail ${EMAIL} now`);
    expect(r.bytes.toString()).toMatch(/data: \[DONE\]\n\n$/);
    expect(lastAudit()).toMatchObject({ stream: true, 'chaperone.response.restored': 1 });
  });

  it('reports personal data the provider sends back, without changing it', async () => {
    h.setPolicy(spec(), { openai: KEY });
    const body = JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      choices: [
        { index: 0, message: { role: 'assistant', content: `Write to ${ECHOED}.` }, finish_reason: 'stop' },
      ],
    });
    answerWith('application/json', body);
    const r = await chat('who do I write to?');
    expect(r.bytes.toString()).toBe(body);
    expect(lastAudit()['chaperone.response.detected']).toBe('email:1');
    const metrics = (await httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}/metrics`)).body;
    expect(metrics).toMatch(
      /chaperone_guard_detections_total\{provider="openai",guard="data-boundary",kind="email",action="reported",direction="response"\} [1-9]/,
    );
  });
});

describe('tool calls in answers', () => {
  const toolStream = sse([
    chunk({
      role: 'assistant',
      tool_calls: [
        { index: 0, id: 'call_1', type: 'function', function: { name: 'delete_all', arguments: '' } },
      ],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"confirm":true}' } }] }),
    chunk({}, 'tool_calls'),
    '[DONE]',
  ]);

  it('ends a stream with an error event before a refused tool call reaches the app', async () => {
    h.setPolicy(spec({ guards: { tools: { allowed: ['lookup_order'], action: 'Block' } } }), { openai: KEY });
    answerWith('text/event-stream', toolStream);
    const r = await chat('tidy up', { stream: true });
    expect(r.status).toBe(200);
    const text = r.bytes.toString();
    expect(text).not.toContain('tool_calls');
    expect(text).toMatch(/^event: error\ndata: /);
    expect(JSON.parse(text.split('\n')[1]!.slice(6))).toMatchObject({
      code: 'GUARD_BLOCKED',
      reason: 'tool delete_all not allowed',
      rule: 'spec.guards.tools.allowed',
    });
    expect(lastAudit()).toMatchObject({
      result: 'deny',
      code: 'GUARD_BLOCKED',
      'chaperone.response.tools_not_allowed': 'delete_all',
      'chaperone.response.tool_calls': 1,
    });
  });

  it('refuses a JSON answer with a refused tool call (its head was held)', async () => {
    h.setPolicy(spec({ guards: { tools: { allowed: ['lookup_order'], action: 'Block' } } }), { openai: KEY });
    answerWith(
      'application/json',
      JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'delete_all', arguments: '{}' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
      }),
    );
    const r = await chat('tidy up');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.bytes.toString())).toMatchObject({ code: 'GUARD_BLOCKED', provider: 'openai' });
    expect(r.headers['x-chaperone-refusal']).toBe('GUARD_BLOCKED');
  });

  it('lets the stream through and records the call when the tool guard reports', async () => {
    h.setPolicy(spec({ guards: { tools: { allowed: ['lookup_order'] } } }), { openai: KEY });
    answerWith('text/event-stream', toolStream);
    const r = await chat('tidy up', { stream: true });
    expect(r.bytes.toString()).toBe(toolStream);
    expect(lastAudit()).toMatchObject({
      result: 'allow',
      'chaperone.response.tools_not_allowed': 'delete_all',
    });
    const metrics = (await httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}/metrics`)).body;
    expect(metrics).toMatch(
      /chaperone_guard_detections_total\{provider="openai",guard="tools",kind="allowed",action="reported",direction="response"\} [1-9]/,
    );
  });
});

describe('audit content (spec.audit.content)', () => {
  const prompt = `Mail ${EMAIL}, card ${CARD}, my other key is sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD`;
  const contentOf = (line: AuditLine): [unknown, unknown] => [
    line['chaperone.request.content'],
    line['chaperone.response.content'],
  ];

  it('Metadata (the default): no prompt or response text', async () => {
    h.setPolicy(spec(), { openai: KEY });
    await chat(prompt);
    expect(contentOf(lastAudit())).toEqual([undefined, undefined]);
  });

  it('Redacted: text after redaction, whatever the boundary action', async () => {
    for (const action of ['Redact', 'Report']) {
      h.setPolicy(spec({ dataBoundary: { action }, audit: { content: 'Redacted' } }), { openai: KEY });
      answerWith(
        'application/json',
        JSON.stringify({
          choices: [
            { index: 0, message: { role: 'assistant', content: `Also cc ${ECHOED}` }, finish_reason: 'stop' },
          ],
        }),
      );
      await chat(prompt);
      const [request, response] = contentOf(lastAudit());
      expect(request).toContain('[EMAIL_1]');
      expect(request).toContain('[CREDIT_CARD_1]');
      expect(request).toContain('[SECRET_1]');
      expect(response).toBe('Also cc [EMAIL_1]');
    }
    const text = h.logText();
    for (const value of [EMAIL, ECHOED, '4111', 'sk-proj-abcdef']) expect(text).not.toContain(value);
  });

  it('Full: everything but credentials, bounded', async () => {
    h.setPolicy(spec({ audit: { content: 'Full' }, dataBoundary: { restoreInResponse: true } }), {
      openai: KEY,
    });
    const r = await chat(prompt, { stream: true });
    expect(r.status).toBe(200);
    const [request, response] = contentOf(lastAudit());
    expect(request).toContain(EMAIL);
    expect(request).toContain(CARD);
    expect(request).toContain('[SECRET_1]');
    expect(response).toContain(`You said: Mail ${EMAIL}`);
    // A provider quoting the sidecar's own key: never in the audit record.
    answerWith('text/plain', `your key ${KEY} is fine`);
    await chat('hi');
    expect(lastAudit()['chaperone.response.content']).toBe('your key [CREDENTIAL] is fine');
    await chat('x'.repeat(40_000));
    expect(lastAudit()).toMatchObject({ 'chaperone.request.content_truncated': true });
    expect((lastAudit()['chaperone.request.content'] as string).length).toBe(16_384);
    expect(h.logText()).not.toContain(KEY);
  });
});

/** Deterministic bytes that look random (base64 of a hash chain). */
function base64Blob(bytes: number): string {
  const parts: Buffer[] = [];
  let seed = Buffer.from('chaperone');
  for (let n = 0; n < bytes; n += 32) parts.push((seed = createHash('sha256').update(seed).digest()));
  return Buffer.concat(parts).subarray(0, bytes).toString('base64');
}

describe('bad responses: passed on unchanged, scanned or marked unscanned, never a crash', () => {
  const json = (content: string): string =>
    JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    });
  let nested = `["${ECHOED}"]`;
  for (let i = 0; i < 100_000; i++) nested = `[${nested}]`;
  const cases: [string, string, Buffer, Record<string, unknown>][] = [
    [
      'not JSON',
      'application/json',
      Buffer.from(`oops: ${ECHOED} <html>`),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      'truncated JSON',
      'application/json',
      Buffer.from(json(`to ${ECHOED}`).slice(0, -12)),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      'a 5 MB string',
      'application/json',
      Buffer.from(json(`${'a '.repeat(2_500_000)} ${ECHOED}`)),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      '100 000 nested arrays',
      'application/json',
      Buffer.from(nested),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      'invalid UTF-8',
      'application/json',
      Buffer.concat([
        Buffer.from(`{"text": "\u00e9 ${ECHOED} `),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}'),
      ]),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      'a base64 blob',
      'application/json',
      Buffer.from(json(`${base64Blob(48_000)} ${ECHOED}`)),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      'SSE with broken events',
      'text/event-stream',
      Buffer.from(
        `data: {not json\n\ndata: ${JSON.stringify(chunk({ content: ECHOED }))}\n\ndata: {"choices": [`,
      ),
      { 'chaperone.response.detected': 'email:1' },
    ],
    [
      'gzip',
      'application/json',
      gzipSync(json(ECHOED)),
      { 'chaperone.response.unscanned': 'the response is gzip-encoded' },
    ],
    [
      'binary',
      'application/octet-stream',
      Buffer.from([0, 1, 2, 255]),
      { 'chaperone.response.unscanned': 'the response is application/octet-stream' },
    ],
  ];

  it.each(cases)('%s', async (name, contentType, body, expected) => {
    h.setPolicy(spec(), { openai: KEY });
    answerWith(contentType, body, name === 'gzip' ? { 'content-encoding': 'gzip' } : {});
    const r = await chat('hello');
    expect(r.status).toBe(200);
    expect(r.bytes.equals(body)).toBe(true);
    expect(lastAudit()).toMatchObject({ result: 'allow', ...expected });
  });

  it('still restores in a body that is not JSON', async () => {
    h.setPolicy(spec({ dataBoundary: { restoreInResponse: true } }), { openai: KEY });
    mock.next((req, res) => {
      const sent = (JSON.parse(req.body) as { messages: { content: string }[] }).messages[0]!.content;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`not json: ${sent}`);
    });
    const r = await chat(`to ${EMAIL}`);
    expect(r.bytes.toString()).toBe(`not json: to ${EMAIL}`);
  });
});
