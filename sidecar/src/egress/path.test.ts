import { describe, expect, it } from '@jest/globals';
import { normalizePath, resolveSegments, splitQuery } from './path.ts';

describe('normalizePath', () => {
  it.each([
    ['/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions'],
    ['/v1/models/', '/v1/models/', '/v1/models/'],
    ['/', '/', '/'],
    ['/v1/./models', '/v1/models', '/v1/models'],
    ['/v1/files/../models', '/v1/models', '/v1/models'],
    ['/v1/models/..', '/v1/', '/v1/'],
    [
      '/openai/deployments/my%20dep/chat',
      '/openai/deployments/my%20dep/chat',
      '/openai/deployments/my dep/chat',
    ],
    [
      '/model/anthropic.claude%3A1/invoke',
      '/model/anthropic.claude%3A1/invoke',
      '/model/anthropic.claude:1/invoke',
    ],
  ])('%s → forwards %s, matches %s', (raw, forward, decoded) => {
    expect(normalizePath(raw)).toEqual({ ok: true, value: { forward, decoded } });
  });

  it.each([
    ['v1/models', 'malformed-path'],
    ['/v1\\..\\admin', 'backslash'],
    ['/v1//models', 'malformed-path'],
    ['/..', 'path-traversal'],
    ['/v1/../../admin', 'path-traversal'],
    ['/v1/..;/admin', 'path-traversal'],
    ['/v1/chat%2Fcompletions', 'encoded-slash'],
    ['/v1/chat%5ccompletions', 'encoded-slash'],
    ['/v1/%2e%2e/admin', 'encoded-dot-segment'],
    ['/v1/%2E/models', 'encoded-dot-segment'],
    ['/v1/%252e%252e/admin', 'double-encoding'],
    ['/v1/models%00.json', 'encoded-control'],
    ['/v1/%0d%0aX-Injected:1', 'encoded-control'],
    ['/v1/%zz', 'malformed-path'],
    ['/v1/%c0%ae%c0%ae/admin', 'malformed-path'],
    ['/v1/mod els', 'malformed-path'],
    ['/v1/mod\tels', 'malformed-path'],
    ['/v1/models\u0000', 'malformed-path'],
    ['/v1/models\u007f', 'malformed-path'],
    ['/v1/mod\u00e9ls', 'malformed-path'],
    ['/v1/\u2024\u2024/admin', 'malformed-path'],
    ['/v1/x#frag', 'fragment'],
  ])('refuses %s (%s)', (raw, check) => {
    const result = normalizePath(raw);
    expect(result.ok ? undefined : result.error.rule).toBe(`egress:${check}`);
  });

  // Paths with nothing to resolve skip the segment walk: whatever the path, the answer is the walk's.
  it.each([
    '/',
    '/v1/chat/completions',
    '/v1/models/',
    '/v1/messages',
    '/v1beta/models/gemini-1.5-pro:streamGenerateContent',
    '/openai/deployments/gpt-4o/chat/completions',
    '/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke-with-response-stream',
    '/v1/files/file-abc_123~x',
    '/a.b/c..d/e.',
    '/v1/./models',
    '/v1/models/..',
    '/v1/.well-known/x',
    '/v1//models',
    '/v1/..;/admin',
    '/v1/x;y/z',
    '/openai/deployments/my%20dep/chat',
    '/v1/%2e%2e/admin',
  ])('%s: the same answer as the segment walk', (raw) => {
    expect(normalizePath(raw)).toEqual(resolveSegments(raw));
  });
});

describe('splitQuery', () => {
  it('splits at the first ?', () => {
    expect(splitQuery('/a?b=1?c')).toEqual({ path: '/a', query: '?b=1?c' });
    expect(splitQuery('/a')).toEqual({ path: '/a', query: '' });
  });
});
