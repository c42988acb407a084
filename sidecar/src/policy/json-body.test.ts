import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { guardPolicy } from '../../../test/helpers/guards.ts';
import { inspectRequest } from '../guards/inspect.ts';
import { JsonBody } from './json-body.ts';
import { readModel } from './model.ts';

describe('JsonBody', () => {
  it.each<[string, Buffer, boolean]>([
    ['a JSON object', Buffer.from('{"model":"gpt-4o"}'), true],
    ['a JSON array', Buffer.from('[1,2]'), true],
    ['text', Buffer.from('hello'), false],
    ['truncated JSON', Buffer.from('{"model":'), false],
    ['invalid UTF-8 inside a string', Buffer.from([0x22, 0xff, 0x22]), true],
  ])('parses %s once and keeps the answer', (_name, bytes, ok) => {
    const body = new JsonBody(bytes);
    const first = body.parse();
    expect(first.ok).toBe(ok);
    expect(body.parse()).toBe(first);
    expect(body.text).toBe(bytes.toString('utf8'));
  });

  describe('shared by the model rule and the guards', () => {
    afterEach(() => {
      jest.restoreAllMocks();
    });
    const text = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Mail me at ada@example.com' }],
    });
    const wholeBodyParses = (parse: jest.SpiedFunction<typeof JSON.parse>): number =>
      parse.mock.calls.filter(([arg]) => arg === text).length;

    it.each<[string, boolean, number]>([
      ['one JsonBody for both: parsed once', true, 1],
      ['each its own (the old way): parsed twice', false, 2],
    ])('%s', (_name, shared, times) => {
      const bytes = Buffer.from(text);
      const parse = jest.spyOn(JSON, 'parse');
      const json = shared ? new JsonBody(bytes) : undefined;
      const model = readModel('openai', '/v1/chat/completions', bytes, undefined, true, json);
      const inspection = inspectRequest(bytes, 'openai-chat', guardPolicy(), undefined, json);
      expect(model).toEqual({ kind: 'model', model: 'gpt-4o-mini', source: 'body' });
      expect(inspection.findings.boundary.detected).toEqual({ email: 1 });
      expect(wholeBodyParses(parse)).toBe(times);
    });
  });
});
