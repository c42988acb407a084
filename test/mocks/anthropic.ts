// An Anthropic mock: the Messages API, as JSON and as its SSE event stream (message_start,
// content_block_start, ping, content_block_delta..., content_block_stop, message_delta,
// message_stop). Keys are checked as Anthropic does (`x-api-key` or a Bearer token, with
// `anthropic-version`).
import {
  commonScenario,
  modelOf,
  sendJson,
  startMockProvider,
  streamEvents,
  type MockProvider,
  type MockProviderOptions,
} from './provider.ts';
import { replyPieces } from './openai.ts';

export const ANTHROPIC_REPLY = 'Hello from the mock Anthropic provider.';

interface MessagesRequest {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: unknown }[];
}

const event = (type: string, data: object): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

export function startAnthropicMock(options: MockProviderOptions): Promise<MockProvider> {
  return startMockProvider((req, res, ctx) => {
    // Anthropic takes the key as x-api-key; recent SDKs send it as a Bearer token, which it also accepts.
    const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
    if (typeof key !== 'string' || !ctx.acceptKeys.includes(key)) {
      sendJson(res, 401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });
      return;
    }
    if (typeof req.headers['anthropic-version'] !== 'string') {
      sendJson(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'anthropic-version header is required' },
      });
      return;
    }
    const path = req.path.split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/messages') {
      sendJson(res, 404, {
        type: 'error',
        error: { type: 'not_found_error', message: `${req.method} ${path}` },
      });
      return;
    }
    const model = modelOf(req);
    if (commonScenario(model, req, res)) return;
    const request = JSON.parse(req.body) as MessagesRequest;
    const id = `msg_mock${Math.floor(Math.random() * 1e9)}`;
    const input = (request.messages ?? []).length * 8;
    const pieces = replyPieces(ANTHROPIC_REPLY);
    if (!request.stream) {
      sendJson(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text: ANTHROPIC_REPLY }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: input, output_tokens: pieces.length },
      });
      return;
    }
    const frames = [
      event('message_start', {
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: input, output_tokens: 1 },
        },
      }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
      ...pieces.map((text) =>
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
      ),
      event('content_block_stop', { index: 0 }),
      event('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: pieces.length },
      }),
      event('message_stop', {}),
    ];
    const delay = model === 'mock-slow-stream' ? 150 : ctx.streamDelayMs;
    void streamEvents(res, frames, delay, model === 'mock-fail-midstream' ? { failAfter: 4 } : {});
  }, options);
}
