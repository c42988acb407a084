import { describe, expect, it } from '@jest/globals';
import { clientResponseHeaders, scrubSecrets, upstreamRequestHeaders } from './headers.ts';

describe('upstreamRequestHeaders', () => {
  it("removes the app's credentials and hop-by-hop headers and adds the provider's credential", () => {
    const out = upstreamRequestHeaders(
      {
        host: '127.0.0.1:15000',
        authorization: 'Bearer app-placeholder',
        'x-api-key': 'app',
        'api-key': 'app',
        'x-goog-api-key': 'app',
        'proxy-authorization': 'Basic x',
        cookie: 'session=1',
        connection: 'keep-alive, x-private',
        'x-private': 'hop',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'content-length': '10',
        'x-chaperone-debug': '1',
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      { 'x-api-key': 'sk-real' },
    );
    expect(out).toEqual({
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-real',
    });
  });
});

describe('clientResponseHeaders', () => {
  it('drops hop-by-hop headers and any header carrying a secret', () => {
    expect(
      clientResponseHeaders(
        {
          'content-type': 'application/json',
          'content-length': '5',
          connection: 'close',
          'transfer-encoding': 'chunked',
          'x-echo': 'you sent sk-real-123',
          'set-cookie': ['a=1', 'b=sk-real-123'],
          'x-request-id': 'req_1',
        },
        ['sk-real-123'],
      ),
    ).toEqual({ 'content-type': 'application/json', 'content-length': '5', 'x-request-id': 'req_1' });
  });
});

describe('scrubSecrets', () => {
  it('replaces every occurrence of every secret', () => {
    expect(scrubSecrets(Buffer.from('a sk-1 b sk-1 c sk-2'), ['sk-1', 'sk-2']).toString()).toBe(
      'a [redacted] b [redacted] c [redacted]',
    );
  });
  it('returns the same buffer when there is nothing to scrub', () => {
    const body = Buffer.from('clean');
    expect(scrubSecrets(body, ['sk-1'])).toBe(body);
  });
});
