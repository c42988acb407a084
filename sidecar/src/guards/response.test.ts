import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { text as readText } from 'node:stream/consumers';
import { guardPolicy } from '../../../test/helpers/guards.ts';
import { inspectRequest } from './inspect.ts';
import type { Placeholders } from './placeholders.ts';
import { ResponseScanner, responseTransform } from './response.ts';

const SSE = 'text/event-stream; charset=utf-8';
const policy = guardPolicy({
  dataBoundary: {
    detectors: ['email', 'phone', 'credit-card', 'us-ssn', 'iban', 'secret', 'jwt', 'ip-address'],
  },
});

// ---- wire formats, as the providers (and test/mocks) send them

function openAiStream(pieces: string[], toolCalls: { name: string; args: string[] }[] = []): string {
  const chunk = (delta: object, finish: string | null = null): string =>
    `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const frames = [chunk({ role: 'assistant', content: '' }), ...pieces.map((content) => chunk({ content }))];
  toolCalls.forEach((call, j) => {
    frames.push(
      chunk({
        tool_calls: [
          { index: j, id: `call_${j}`, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      }),
    );
    for (const a of call.args) frames.push(chunk({ tool_calls: [{ index: j, function: { arguments: a } }] }));
  });
  frames.push(chunk({}, toolCalls.length > 0 ? 'tool_calls' : 'stop'), 'data: [DONE]\n\n');
  return frames.join('');
}

function anthropicStream(pieces: string[], tool?: { name: string; args: string[] }): string {
  const event = (type: string, data: object): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const frames = [
    event('message_start', {
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude',
        content: [],
        usage: { input_tokens: 3, output_tokens: 1 },
      },
    }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    event('ping', {}),
    ...pieces.map((text) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    event('content_block_stop', { index: 0 }),
  ];
  if (tool) {
    frames.push(
      event('content_block_start', {
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_1', name: tool.name, input: {} },
      }),
    );
    for (const partial_json of tool.args)
      frames.push(
        event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json } }),
      );
    frames.push(event('content_block_stop', { index: 1 }));
  }
  frames.push(
    event('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }),
    event('message_stop', {}),
  );
  return frames.join('');
}

/** Feeds `stream` cut at the byte offsets `cuts`; returns what the scanner forwarded. */
function run(scanner: ResponseScanner, stream: string | Buffer, cuts: number[] = []): string {
  const bytes = Buffer.isBuffer(stream) ? stream : Buffer.from(stream);
  const out: Buffer[] = [];
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(scanner.push(bytes.subarray(last, cut)));
    last = cut;
  }
  out.push(scanner.end());
  return Buffer.concat(out).toString('utf8');
}

/** The assistant text of an SSE stream (OpenAI chunks or Anthropic text deltas). */
function streamedText(sse: string): string {
  let text = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const data = JSON.parse(line.slice(6)) as {
      choices?: { delta?: { content?: string } }[];
      delta?: { text?: string };
    };
    text += data.choices?.[0]?.delta?.content ?? data.delta?.text ?? '';
  }
  return text;
}

const VALUES: [string, string][] = [
  ['email', 'jane.doe@example.com'],
  ['phone', '+1 415 555 2671'],
  ['credit-card', '4111 1111 1111 1111'],
  ['us-ssn', '123-45-6789'],
  ['iban', 'DE89 3704 0044 0532 0130 00'],
  ['secret', `${'sk-proj-'}Zq3xT9vB2mK8pL4wN7rY1cF6hJ0dS5aGe2Rt`],
  ['ip-address', '203.0.113.42'],
];

describe('ResponseScanner: what the provider sends back is reported', () => {
  it.each(VALUES)('%s split across deltas at every position, and across TCP chunks', (detector, value) => {
    for (let k = 1; k < value.length; k++) {
      const stream = openAiStream([
        'Sure, the value is ',
        value.slice(0, k),
        value.slice(k),
        ' as you asked.',
      ]);
      // Byte cuts inside the value's region, and one-byte chunks once.
      const start = stream.indexOf(value.slice(0, k));
      for (const cuts of [[start + 1], [start + k + 7], [stream.indexOf(value.slice(k)) + 1]]) {
        const scanner = new ResponseScanner({ policy, contentType: SSE });
        const out = run(scanner, stream, cuts);
        expect(out).toBe(stream); // forwarded untouched
        expect(scanner.findings.detected).toEqual({ [detector]: 1 });
      }
    }
    const scanner = new ResponseScanner({ policy, contentType: SSE });
    const stream = openAiStream(['value: ', value.slice(0, 3), value.slice(3), '.']);
    run(
      scanner,
      stream,
      Array.from({ length: Buffer.byteLength(stream) - 1 }, (_, i) => i + 1),
    );
    expect(scanner.findings.detected).toEqual({ [detector]: 1 });
  });

  it.each(VALUES)('%s in an Anthropic stream split at every position', (detector, value) => {
    for (let k = 1; k < value.length; k++) {
      const scanner = new ResponseScanner({ policy, contentType: SSE });
      run(scanner, anthropicStream(['It is ', value.slice(0, k), value.slice(k), '.']));
      expect(scanner.findings.detected).toEqual({ [detector]: 1 });
    }
  });

  it('counts a value in a long stream of one-character deltas once', () => {
    const text = `${'lorem ipsum '.repeat(60)}write to jane.doe@example.com ${'dolor sit amet '.repeat(60)}`;
    const scanner = new ResponseScanner({ policy, contentType: SSE });
    run(scanner, openAiStream([...text]));
    expect(scanner.findings.detected).toEqual({ email: 1 });
  });

  it('keeps its hold-back bounded', () => {
    const scanner = new ResponseScanner({ policy, contentType: SSE });
    const pieces = Array.from({ length: 2000 }, () => 'no data here at all, just words. ');
    expect(run(scanner, openAiStream(pieces))).toContain('just words');
    expect(scanner.findings.detected).toEqual({});
  });

  it('handles multi-byte characters cut between chunks', () => {
    const stream = openAiStream(['Grüße — 🙂 mail jane.doe@example.com ✓']);
    const scanner = new ResponseScanner({ policy, contentType: SSE });
    const bytes = Buffer.from(stream);
    const out = run(
      scanner,
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    );
    expect(out).toBe(stream);
    expect(scanner.findings.detected).toEqual({ email: 1 });
  });
});

describe('ResponseScanner: placeholders restored', () => {
  const restoring = guardPolicy({ dataBoundary: { restoreInResponse: true } });
  function placeholdersFor(...values: string[]): Placeholders {
    const body = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: values.join(' and ') }] }));
    return inspectRequest(body, 'openai-chat', restoring).placeholders!;
  }
  const map = placeholdersFor('jane.doe@example.com', '4111 1111 1111 1111');

  it('puts values back, a placeholder split across deltas at every position and across chunks', () => {
    const placeholder = '[EMAIL_1]';
    for (let k = 0; k <= placeholder.length; k++) {
      const stream = openAiStream([
        'I will write to ',
        placeholder.slice(0, k),
        placeholder.slice(k),
        ' and charge [CREDIT_CARD_1].',
      ]);
      for (const cuts of [[], [stream.indexOf('[') + 2], Array.from({ length: 40 }, (_, i) => 200 + i * 7)]) {
        const scanner = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: map });
        const out = run(scanner, stream, cuts);
        expect(streamedText(out)).toBe(
          'I will write to jane.doe@example.com and charge 4111 1111 1111 1111.',
        );
        expect(scanner.findings.restored).toBe(2);
        // The restored values are the app's own: not reported as echoes.
        expect(scanner.findings.detected).toEqual({});
      }
    }
  });

  it('restores in Anthropic streams, releasing held text before the block stops', () => {
    const scanner = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: map });
    const out = run(scanner, anthropicStream(['Mail [EMA', 'IL_1] now [', 'link](x) [CRED']));
    expect(streamedText(out)).toBe('Mail jane.doe@example.com now [link](x) [CRED');
    expect(out.indexOf('[CRED')).toBeLessThan(out.indexOf('content_block_stop'));
  });

  it('restores inside streamed tool arguments, JSON-escaped', () => {
    const quoted = placeholdersFor('password=S3cr3t\\V4lue!'); // a backslash: JSON must escape it
    const scanner = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: quoted });
    const out = run(scanner, openAiStream([], [{ name: 'login', args: ['{"password":"[SEC', 'RET_1]"}'] }]));
    const args = out
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map(
        (l) =>
          (
            JSON.parse(l.slice(6)) as {
              choices: { delta: { tool_calls?: { function: { arguments?: string } }[] } }[];
            }
          ).choices[0]!.delta.tool_calls?.[0]?.function.arguments ?? '',
      )
      .join('');
    expect(JSON.parse(args)).toEqual({ password: 'S3cr3t\\V4lue!' });
  });

  it('restores a whole JSON body', () => {
    const scanner = new ResponseScanner({
      policy: restoring,
      contentType: 'application/json',
      placeholders: map,
    });
    expect(scanner.holdsBody).toBe(true);
    const body = JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content: 'Sent to [EMAIL_1].' } }],
    });
    const out = run(scanner, body, [10, 20]);
    expect(JSON.parse(out)).toEqual({
      choices: [{ index: 0, message: { role: 'assistant', content: 'Sent to jane.doe@example.com.' } }],
    });
  });

  it('releases text held at the end of a choice into its last chunk, or before [DONE]', () => {
    const withFinish = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: map });
    expect(streamedText(run(withFinish, openAiStream(['Write to [EMA'])))).toBe('Write to [EMA');
    const noFinish = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: map });
    const stream = openAiStream(['Write to [EMA']).replace(/data: \{[^\n]*"finish_reason":"stop"\}\n\n/, '');
    const out = run(noFinish, stream);
    expect(streamedText(out)).toBe('Write to [EMA');
    expect(out.indexOf('[EMA')).toBeLessThan(out.indexOf('[DONE]'));
  });

  it('restores Responses API deltas and the full text of their done events', () => {
    const event = (type: string, data: object): string =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const stream = [
      event('response.output_text.delta', {
        item_id: 'm1',
        output_index: 0,
        content_index: 0,
        delta: 'Mail [EMAIL',
      }),
      event('response.output_text.delta', {
        item_id: 'm1',
        output_index: 0,
        content_index: 0,
        delta: '_1] today',
      }),
      event('response.output_text.done', {
        item_id: 'm1',
        output_index: 0,
        content_index: 0,
        text: 'Mail [EMAIL_1] today',
      }),
    ].join('');
    const scanner = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: map });
    const out = run(scanner, stream);
    const data = out
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { delta?: string; text?: string });
    expect(data.map((d) => d.delta ?? '').join('')).toBe('Mail jane.doe@example.com today');
    expect(data.at(-1)?.text).toBe('Mail jane.doe@example.com today');
  });

  it('leaves text that only looks like a placeholder alone', () => {
    const scanner = new ResponseScanner({ policy: restoring, contentType: SSE, placeholders: map });
    const out = run(scanner, openAiStream(['see [EMAIL_9] and [NOTE_1] and [', '1]']));
    expect(streamedText(out)).toBe('see [EMAIL_9] and [NOTE_1] and [1]');
  });
});

describe('ResponseScanner: tool calls', () => {
  const allow = (action: string, extra: object = {}) =>
    guardPolicy({ guards: { tools: { allowed: ['lookup_order'], action, ...extra } } });

  it('assembles streamed tool calls and reports one outside the allowlist, forwarding untouched', () => {
    const stream = openAiStream([], [{ name: 'delete_all', args: ['{"confirm":', 'true}'] }]);
    const scanner = new ResponseScanner({ policy: allow('Report'), contentType: SSE });
    expect(run(scanner, stream, [30, 300])).toBe(stream);
    expect(scanner.findings.toolCalls).toEqual(['delete_all']);
    expect(scanner.findings.notAllowed).toEqual(['delete_all']);
    expect(scanner.decision).toMatchObject({
      result: 'report',
      code: 'GUARD_BLOCKED',
      reason: 'tool delete_all not allowed',
    });
    expect(scanner.blocked).toBeNull();
  });

  it('cuts the stream with an error event when the action is Block', () => {
    const stream = openAiStream(['Deleting now.'], [{ name: 'delete_all', args: ['{}'] }]);
    const scanner = new ResponseScanner({ policy: allow('Block'), contentType: SSE });
    const out = run(scanner, stream);
    expect(scanner.blocked).toEqual({
      result: 'deny',
      code: 'GUARD_BLOCKED',
      reason: 'tool delete_all not allowed',
      rule: 'spec.guards.tools.allowed',
    });
    expect(out).toContain('Deleting now.');
    expect(out).not.toContain('delete_all"');
    expect(out.endsWith('\n\n')).toBe(true);
    const last = out.trim().split('\n\n').pop()!;
    expect(last.startsWith('event: error\ndata: ')).toBe(true);
    expect(JSON.parse(last.split('\n')[1]!.slice(6))).toMatchObject({
      code: 'GUARD_BLOCKED',
      reason: 'tool delete_all not allowed',
    });
  });

  it('checks Anthropic tool_use and its streamed input against argument rules', () => {
    const strict = guardPolicy(
      { guards: { tools: { allowed: ['lookup_order'], action: 'Block' } } },
      { toolArguments: { lookup_order: { id: { pattern: /^ord_[0-9]+$/, required: true } } } },
    );
    const good = new ResponseScanner({ policy: strict, contentType: SSE });
    run(good, anthropicStream(['ok'], { name: 'lookup_order', args: ['{"id":"ord_', '42"}'] }));
    expect(good.blocked).toBeNull();
    const bad = new ResponseScanner({ policy: strict, contentType: SSE });
    run(bad, anthropicStream(['ok'], { name: 'lookup_order', args: ['{"id":"x; DROP', ' TABLE"}'] }));
    expect(bad.blocked?.reason).toBe('tool arguments refused: lookup_order.id does not match its pattern');
  });

  it('reads Responses API function calls', () => {
    const event = (type: string, data: object): string =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const stream = [
      event('response.output_item.added', {
        output_index: 0,
        item: { type: 'function_call', id: 'fc_1', call_id: 'c1', name: 'wire_money', arguments: '' },
      }),
      event('response.function_call_arguments.delta', {
        output_index: 0,
        item_id: 'fc_1',
        delta: '{"to":"DE89 3704 ',
      }),
      event('response.function_call_arguments.delta', {
        output_index: 0,
        item_id: 'fc_1',
        delta: '0044 0532 0130 00"}',
      }),
      event('response.function_call_arguments.done', {
        output_index: 0,
        item_id: 'fc_1',
        arguments: '{"to":"DE89 3704 0044 0532 0130 00"}',
      }),
      event('response.completed', { response: { id: 'resp_1' } }),
    ].join('');
    const scanner = new ResponseScanner({ policy: allow('Report'), contentType: SSE });
    run(scanner, stream);
    expect(scanner.findings.toolCalls).toEqual(['wire_money']);
    expect(scanner.findings.detected).toEqual({ iban: 1 });
  });

  it('reports a burst of tool calls in one response', () => {
    const calls = Array.from({ length: 5 }, () => ({ name: 'lookup_order', args: ['{}'] }));
    const scanner = new ResponseScanner({
      policy: allow('Report', { maxCallsPerResponse: 3 }),
      contentType: SSE,
    });
    run(scanner, openAiStream([], calls));
    expect(scanner.decision.reason).toBe('4 tool calls in one response exceed 3');
  });

  it('refuses a whole JSON response whose tool call is blocked', () => {
    const scanner = new ResponseScanner({ policy: allow('Block'), contentType: 'application/json' });
    const body = JSON.stringify({ content: [{ type: 'tool_use', id: 't', name: 'delete_all', input: {} }] });
    expect(run(scanner, body)).toBe('');
    expect(scanner.blocked?.reason).toBe('tool delete_all not allowed');
  });
});

describe('ResponseScanner: other bodies', () => {
  it('passes compressed bodies through and says it did not scan them', () => {
    const scanner = new ResponseScanner({ policy, contentType: 'application/json', contentEncoding: 'gzip' });
    expect(run(scanner, 'binary')).toBe('binary');
    expect(scanner.findings.unscanned).toBe('the response is gzip-encoded');
  });

  it('passes a JSON body over the limit through, unscanned from there', () => {
    const scanner = new ResponseScanner({ policy, contentType: 'application/json', maxJsonBytes: 10 });
    expect(run(scanner, '{"content":"jane.doe@example.com"}', [5, 15])).toBe(
      '{"content":"jane.doe@example.com"}',
    );
    expect(scanner.holdsBody).toBe(false);
    expect(scanner.findings.unscanned).toBe('the response is larger than 10 bytes');
  });

  it('passes a JSON body on as it arrives when nothing could change or refuse it, scanning a copy', () => {
    const scanner = new ResponseScanner({ policy, contentType: 'application/json', captureChars: 100 });
    expect(scanner.holdsBody).toBe(false);
    expect(scanner.mayRewrite).toBe(false);
    const body = JSON.stringify({ choices: [{ message: { content: 'mail jane.doe@example.com' } }] });
    expect(scanner.push(Buffer.from(body.slice(0, 20))).toString()).toBe(body.slice(0, 20));
    expect(scanner.push(Buffer.from(body.slice(20))).toString()).toBe(body.slice(20));
    expect(scanner.end().length).toBe(0);
    expect(scanner.findings.detected).toEqual({ email: 1 });
    expect(scanner.content).toEqual({ text: 'mail jane.doe@example.com', truncated: false });
  });

  it('holds a JSON body a tool Block could refuse', () => {
    const blocking = guardPolicy({ guards: { tools: { allowed: ['a'], action: 'Block' } } });
    const scanner = new ResponseScanner({ policy: blocking, contentType: 'application/json' });
    expect(scanner.holdsBody).toBe(true);
    expect(scanner.push(Buffer.from('{"choices":[]}')).length).toBe(0);
    expect(scanner.end().toString()).toBe('{"choices":[]}');
  });

  it('captures streamed text for the audit, bounded', () => {
    const scanner = new ResponseScanner({ policy, contentType: SSE, captureChars: 8 });
    run(scanner, openAiStream(['mail jane.', 'doe@example.com']));
    expect(scanner.content).toEqual({ text: 'mail jan', truncated: true });
  });

  it('scans plain text streams', () => {
    const scanner = new ResponseScanner({ policy, contentType: 'text/plain' });
    expect(run(scanner, 'call +1 415 555 2671', [8])).toBe('call +1 415 555 2671');
    expect(scanner.findings.detected).toEqual({ phone: 1 });
  });

  it('reports a JSON body that is not JSON', () => {
    const scanner = new ResponseScanner({ policy, contentType: 'application/json' });
    expect(run(scanner, 'oops jane.doe@example.com')).toBe('oops jane.doe@example.com');
    expect(scanner.findings.detected).toEqual({ email: 1 });
  });

  it('works as a Node Transform', async () => {
    const scanner = new ResponseScanner({ policy, contentType: SSE });
    const stream = openAiStream(['mail jane.', 'doe@example.com']);
    const piped = Readable.from([Buffer.from(stream.slice(0, 100)), Buffer.from(stream.slice(100))]).pipe(
      responseTransform(scanner),
    );
    expect(await readText(piped)).toBe(stream);
    expect(scanner.findings.detected).toEqual({ email: 1 });
  });
});
