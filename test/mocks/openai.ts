// An OpenAI mock: chat completions (JSON and the SSE stream ending in `data: [DONE]`, with the usage
// chunk when stream_options.include_usage is set) and the models list. Keys are checked as OpenAI
// does (`Authorization: Bearer`). Model `mock-echo` answers with the last user message as it
// arrived (a model repeating what it was sent: placeholders, or values that got through).
import {
  commonScenario,
  modelOf,
  sendJson,
  startMockProvider,
  streamEvents,
  type MockProvider,
  type MockProviderOptions,
} from './provider.ts';

interface ChatRequest {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: { role: string; content: unknown }[];
}

export const OPENAI_REPLY = 'Hello from the mock OpenAI provider.';

/** The reply is split into these pieces when streamed. */
export function replyPieces(text: string): string[] {
  return text.match(/.{1,6}/g) ?? [text];
}

function promptTokens(request: ChatRequest): number {
  const text = (request.messages ?? [])
    .map((m) => (typeof m.content === 'string' ? m.content : ''))
    .join(' ');
  return text.split(/\s+/).filter(Boolean).length;
}

function lastUserText(request: ChatRequest): string {
  const last = (request.messages ?? []).filter((m) => m.role === 'user').at(-1);
  return typeof last?.content === 'string' ? last.content : '';
}

export function startOpenAiMock(options: MockProviderOptions): Promise<MockProvider> {
  return startMockProvider((req, res, ctx) => {
    const auth = req.headers.authorization ?? '';
    if (!ctx.acceptKeys.some((key) => auth === `Bearer ${key}`)) {
      sendJson(res, 401, {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      return;
    }
    const path = req.path.split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'gpt-4o-mini', object: 'model', created: 1_700_000_000, owned_by: 'mock' }],
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, {
        error: { message: `Unknown request URL: ${req.method} ${path}`, type: 'invalid_request_error' },
      });
      return;
    }
    const model = modelOf(req);
    if (commonScenario(model, req, res)) return;
    const request = JSON.parse(req.body) as ChatRequest;
    const created = Math.floor(Date.now() / 1000);
    const id = `chatcmpl-mock${Math.floor(Math.random() * 1e9)}`;
    const input = promptTokens(request);
    const reply = model === 'mock-echo' ? `You said: ${lastUserText(request)}` : OPENAI_REPLY;
    const pieces = replyPieces(reply);
    const usage = {
      prompt_tokens: input,
      completion_tokens: pieces.length,
      total_tokens: input + pieces.length,
    };
    if (!request.stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: reply, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
        system_fingerprint: 'fp_mock',
      });
      return;
    }
    const chunk = (delta: object, finish: string | null, extra: object = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;
    const frames = [
      chunk({ role: 'assistant', content: '', refusal: null }, null),
      ...pieces.map((p) => chunk({ content: p }, null)),
      chunk({}, 'stop'),
    ];
    if (request.stream_options?.include_usage)
      frames.push(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
      );
    frames.push('data: [DONE]\n\n');
    const delay = model === 'mock-slow-stream' ? 150 : ctx.streamDelayMs;
    void streamEvents(res, frames, delay, model === 'mock-fail-midstream' ? { failAfter: 3 } : {});
  }, options);
}
