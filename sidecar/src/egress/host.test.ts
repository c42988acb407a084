import { describe, expect, it } from '@jest/globals';
import { normalizeHost, parseAbsoluteTarget, parseAuthority, parsePort } from './host.ts';

describe('normalizeHost', () => {
  it.each([
    ['api.openai.com', 'api.openai.com'],
    ['API.OpenAI.COM', 'api.openai.com'],
    ['api.openai.com.', 'api.openai.com'],
    ['api\u3002openai\u3002com', 'api.openai.com'],
    ['api\uff0eopenai\uff0ecom', 'api.openai.com'],
    ['\uff21\uff30\uff29.openai.com', 'api.openai.com'],
    ['\u0430pi.openai.com', 'xn--pi-6kc.openai.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeHost(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', 'malformed-host'],
    ['user@api.openai.com', 'userinfo'],
    ['api.openai.com\\evil', 'backslash'],
    ['api%2eopenai.com', 'percent-encoded-host'],
    ['127.0.0.1', 'ip-literal'],
    ['2130706433', 'ip-literal'],
    ['0x7f.1', 'ip-literal'],
    ['0177.0.0.1', 'ip-literal'],
    ['[::1]', 'ip-literal'],
    ['[fe80::1]', 'ip-literal'],
    ['api.openai.com..', 'malformed-host'],
    ['a..b.com', 'malformed-host'],
    ['-a.example.com', 'malformed-host'],
    ['api.openai.com:443', 'malformed-host'],
    ['api openai.com', 'malformed-host'],
    ['999.1.1.1', 'malformed-host'],
    ['a'.repeat(64) + '.com', 'malformed-host'],
  ])('refuses %j (%s)', (raw, check) => {
    const result = normalizeHost(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('EGRESS_DENIED');
      expect(result.error.rule).toBe(`egress:${check}`);
    }
  });
});

describe('parsePort', () => {
  it.each(['1', '443', '65535'])('accepts %s', (raw) =>
    expect(parsePort(raw)).toEqual({ ok: true, value: Number(raw) }),
  );
  it.each(['0', '65536', '0443', '+443', '-1', '0x1bb', ' 443', '443 ', '', '1e3', '99999'])(
    'refuses %j',
    (raw) => {
      expect(parsePort(raw).ok).toBe(false);
    },
  );
});

describe('parseAuthority', () => {
  it('splits host and port and normalises the host', () => {
    expect(parseAuthority('API.openai.com.:443')).toEqual({
      ok: true,
      value: { host: 'api.openai.com', port: 443 },
    });
  });
  it('applies a default port only when given one', () => {
    expect(parseAuthority('api.openai.com', 80)).toEqual({
      ok: true,
      value: { host: 'api.openai.com', port: 80 },
    });
    expect(parseAuthority('api.openai.com').ok).toBe(false);
  });
  it.each([
    ['user:pass@api.openai.com:443', 'userinfo'],
    ['api.openai.com:443:443', 'malformed-port'],
    ['[::1]:443', 'ip-literal'],
    ['[::1]x:443', 'malformed-port'],
    ['api.openai.com:', 'malformed-port'],
  ])('refuses %s (%s)', (raw, check) => {
    const result = parseAuthority(raw);
    expect(result.ok ? undefined : result.error.rule).toBe(`egress:${check}`);
  });
});

describe('parseAbsoluteTarget', () => {
  it('reads scheme, host, port and path', () => {
    expect(parseAbsoluteTarget('http://API.openai.com/v1/models?x=1')).toEqual({
      ok: true,
      value: {
        scheme: 'http',
        host: 'api.openai.com',
        port: 80,
        explicitPort: false,
        pathAndQuery: '/v1/models?x=1',
      },
    });
    expect(parseAbsoluteTarget('https://api.openai.com:8443')).toEqual({
      ok: true,
      value: { scheme: 'https', host: 'api.openai.com', port: 8443, explicitPort: true, pathAndQuery: '/' },
    });
  });
  it.each([
    ['ftp://api.openai.com/x', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['gopher://api.openai.com:70/_x', 'scheme'],
    ['/v1/models', 'malformed-target'],
    ['http:/api.openai.com/', 'malformed-target'],
    ['http://evil.com\\@api.openai.com/', 'backslash'],
    ['http://evil.com#@api.openai.com/', 'fragment'],
    ['http://api.openai.com@evil.com/', 'userinfo'],
    ['http://api.openai.com?x', 'malformed-target'],
  ])('refuses %s (%s)', (raw, check) => {
    const result = parseAbsoluteTarget(raw);
    expect(result.ok ? undefined : result.error.rule).toBe(`egress:${check}`);
  });
});
