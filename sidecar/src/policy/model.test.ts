import { describe, expect, it } from '@jest/globals';
import { duplicateTopLevelKey, modelFromPath, readModel } from './model.ts';

const body = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('readModel', () => {
  it.each([
    [
      'a plain body',
      '{"model":"gpt-4o-mini","messages":[]}',
      { kind: 'model', model: 'gpt-4o-mini', source: 'body' },
    ],
    ['a body without model', '{"messages":[]}', { kind: 'none' }],
    [
      'a nested model key',
      '{"messages":[{"model":"x"}],"model":"gpt-4o-mini"}',
      { kind: 'model', model: 'gpt-4o-mini', source: 'body' },
    ],
    [
      'a string value "model"',
      '{"role":"model","model":"gemini"}',
      { kind: 'model', model: 'gemini', source: 'body' },
    ],
    [
      'duplicate keys',
      '{"model":"gpt-4o-mini","model":"gpt-5"}',
      { kind: 'unreadable', why: 'the body repeats the key "model" (case-insensitively)' },
    ],
    [
      'keys differing in case',
      '{"model":"gpt-4o-mini","MODEL":"gpt-5"}',
      { kind: 'unreadable', why: 'the body repeats the key "model" (case-insensitively)' },
    ],
    [
      'an escaped duplicate',
      '{"model":"gpt-4o-mini","mod\\u0065l":"gpt-5"}',
      { kind: 'unreadable', why: 'the body repeats the key "model" (case-insensitively)' },
    ],
    [
      'a non-string model',
      '{"model":["gpt-4o-mini"]}',
      { kind: 'unreadable', why: 'the "model" field is not a string' },
    ],
    ['not JSON', 'model=gpt-5', { kind: 'unreadable', why: 'the body is not JSON' }],
    ['a JSON array', '[{"model":"gpt-5"}]', { kind: 'unreadable', why: 'the body is not a JSON object' }],
    ['a byte-order mark', '\ufeff{"model":"gpt-5"}', { kind: 'unreadable', why: 'the body is not JSON' }],
    [
      'trailing garbage',
      '{"model":"gpt-4o-mini"} {"model":"gpt-5"}',
      { kind: 'unreadable', why: 'the body is not JSON' },
    ],
  ])('reads %s', (_name, text, expected) => {
    expect(readModel('openai', '/v1/chat/completions', body(text), undefined, true)).toEqual(expected);
  });

  it('treats an unreadable body as "no model" when the provider has no model list', () => {
    expect(readModel('openai', '/v1/x', body('not json'), undefined, false)).toEqual({ kind: 'none' });
    expect(readModel('openai', '/v1/x', body('{"a":1}'), 'gzip', false)).toEqual({ kind: 'none' });
  });

  it('refuses to guess the model of an encoded body', () => {
    expect(readModel('openai', '/v1/x', body('{}'), 'gzip', true)).toEqual({
      kind: 'unreadable',
      why: 'the body is gzip-encoded',
    });
  });

  it.each([
    ['azure-openai', '/openai/deployments/gpt4o-prod/chat/completions', 'gpt4o-prod'],
    [
      'bedrock',
      '/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke',
      'anthropic.claude-3-5-haiku-20241022-v1:0',
    ],
    [
      'vertex',
      '/v1/projects/p/locations/eu/publishers/google/models/gemini-2.0-flash:generateContent',
      'gemini-2.0-flash',
    ],
    ['openai', '/v1/chat/completions', undefined],
  ] as const)('reads the %s model from the path', (type, path, expected) => {
    expect(modelFromPath(type, path)).toBe(expected);
  });

  it('prefers the path model of an Azure deployment over the body', () => {
    expect(
      readModel(
        'azure-openai',
        '/openai/deployments/dep/chat/completions',
        body('{"model":"x"}'),
        undefined,
        true,
      ),
    ).toEqual({
      kind: 'model',
      model: 'dep',
      source: 'path',
    });
  });
});

describe('duplicateTopLevelKey', () => {
  it.each([
    ['{}', undefined],
    ['{"a":1,"b":{"a":2},"c":[{"a":3}],"d":"a"}', undefined],
    ['{"a":"x\\"y","A":1}', 'a'],
    [' { "a" : [1, {"b": "}"}] , "a": null } ', 'a'],
    // A string may end in an escaped backslash, or hold an escaped quote before more text.
    ['{"a":"\\\\","b":1,"B":2}', 'b'],
    ['{"a":"x\\\\","b":"\\\\\\"","A":1}', 'a'],
    ['{"k\\"ey":1,"K\\"EY":2}', 'k"ey'],
    ['{"mod\\u0065l":"a","model":"b"}', 'model'],
    ['{"a":"\\"}\\\\","b":[-1.5e3,true,false,null],"c":{}}', undefined],
    ['{"a":1,\n\t"b":2,\r\n"B":3}', 'b'],
  ])('%s → %s', (text, expected) => {
    expect(duplicateTopLevelKey(text)).toBe(expected);
  });
});
