import { describe, expect, it } from '@jest/globals';
import { UsageScanner, readTopLevelUsage } from './usage.ts';

function scan(type: string, chunks: string[]): ReturnType<UsageScanner['end']> | undefined {
  const scanner = UsageScanner.for(type, undefined);
  if (!scanner) return undefined;
  for (const chunk of chunks) scanner.push(Buffer.from(chunk));
  return scanner.end();
}

describe('UsageScanner', () => {
  it('reads an OpenAI chat completion', () => {
    expect(
      scan('application/json', [
        '{"model":"gpt-4o-mini","usage":{"prompt_',
        'tokens":12,"completion_tokens":7}}',
      ]),
    ).toEqual({
      responseModel: 'gpt-4o-mini',
      inputTokens: 12,
      outputTokens: 7,
    });
  });

  it('reads the usage chunk of an OpenAI stream split anywhere', () => {
    const stream =
      'data: {"model":"gpt-4o-mini","choices":[{"delta":{"content":"hi"}}]}\n\n' +
      'data: {"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n';
    for (const cut of [5, 40, 90, stream.length - 3]) {
      expect(scan('text/event-stream', [stream.slice(0, cut), stream.slice(cut)])).toEqual({
        responseModel: 'gpt-4o-mini',
        inputTokens: 3,
        outputTokens: 2,
      });
    }
  });

  it('reads Anthropic message_start and message_delta usage', () => {
    expect(
      scan('text/event-stream; charset=utf-8', [
        'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-5","usage":{"input_tokens":25,"output_tokens":1}}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hi"}}\n\n',
        'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":15}}\n\n',
      ]),
    ).toEqual({ responseModel: 'claude-sonnet-4-5', inputTokens: 25, outputTokens: 15 });
  });

  it('takes usage from a body the response guard parsed, and then decodes nothing', () => {
    const scanner = UsageScanner.for('application/json', undefined)!;
    // What was pushed is not read again: the parsed body is the one source.
    scanner.push(Buffer.from('{"model":"pushed","usage":{"prompt_tokens":1,"completion_tokens":1}}'));
    scanner.take({ model: 'gpt-4o-mini', usage: { prompt_tokens: 12, completion_tokens: 7 } });
    expect(scanner.end()).toEqual({ responseModel: 'gpt-4o-mini', inputTokens: 12, outputTokens: 7 });
  });

  it('ignores a parsed body for a stream (its usage comes from the events)', () => {
    const scanner = UsageScanner.for('text/event-stream', undefined)!;
    scanner.take({ usage: { prompt_tokens: 99 } });
    expect(scanner.end()).toEqual({});
  });

  it('does not scan encoded or other bodies', () => {
    expect(UsageScanner.for('application/json', 'gzip')).toBeUndefined();
    expect(UsageScanner.for('audio/mpeg', undefined)).toBeUndefined();
  });
});

describe('readTopLevelUsage', () => {
  it.each([
    [
      '{"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}',
      { responseModel: 'gpt-4o-mini', inputTokens: 12, outputTokens: 7 },
    ],
    [
      '{"model":"claude","content":[{"text":"a \\"usage\\": {} trap"}],"usage":{"input_tokens":3,"output_tokens":4}}',
      { responseModel: 'claude', inputTokens: 3, outputTokens: 4 },
    ],
    [
      '{"usage":{"prompt_tokens_details":{"cached_tokens":1},"prompt_tokens":5,"completion_tokens":6}}',
      { inputTokens: 5, outputTokens: 6 },
    ],
  ])('reads %s', (text, expected) => {
    const usage = {};
    expect(readTopLevelUsage(usage, text)).toBe(true);
    expect(usage).toEqual(expected);
  });

  it.each(['{"choices":[]}', '{"x":"usage"}', '{"usage":"none"}', '{"usage":{"prompt_tokens":1'])(
    'declines %s',
    (text) => {
      expect(readTopLevelUsage({}, text)).toBe(false);
    },
  );
});
