import { describe, expect, it } from '@jest/globals';
import { AUDIT_CONTENT_CHARS, requestContent, responseContent } from './audit-content.ts';
import { Placeholders } from './placeholders.ts';

const KEY = 'sk-proj-provider-key-held-by-the-sidecar';
const body = (content: string): Buffer =>
  Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }));

describe('requestContent', () => {
  it.each([
    ['Metadata: nothing', 'Metadata', 'mail jane@example.com', undefined],
    [
      'Redacted: every detector',
      'Redacted',
      'mail jane@example.com, ip 10.1.2.3',
      'mail [EMAIL_1], ip [IP_ADDRESS_1]',
    ],
    ['Full: personal data stays', 'Full', 'mail jane@example.com', 'mail jane@example.com'],
    ['Full: credentials do not', 'Full', `key ${KEY}`, 'key [CREDENTIAL]'],
    ['Full: nor anything the secret detector finds', 'Full', 'aws AKIAZ7Q3M5XK2P6WLT4B', 'aws [SECRET_1]'],
  ])('%s', (_name, mode, content, expected) => {
    const field = requestContent(mode as 'Metadata', body(content), body(content), [KEY]);
    if (expected === undefined) expect(field).toBeUndefined();
    else expect(JSON.parse(field!.text)).toMatchObject({ messages: [{ content: expected }] });
  });

  it('sees values behind JSON escapes', () => {
    const escaped = Buffer.from('{"c":"jane\\u0040example.com"}');
    expect(requestContent('Redacted', escaped, undefined, [])!.text).toBe('{"c":"[EMAIL_1]"}');
  });

  it('redacts keys too, and bodies that are not JSON as text', () => {
    const keyed = requestContent('Redacted', Buffer.from('{"jane@example.com": 1}'), undefined, []);
    expect(keyed!.text).toBe('{"[EMAIL_1]":1}');
    expect(requestContent('Redacted', Buffer.from('to jane@example.com'), undefined, [])!.text).toBe(
      'to [EMAIL_1]',
    );
  });

  it('falls back to text for JSON nested deeper than the serialiser goes', () => {
    const deep = `${'['.repeat(200_000)}"jane@example.com"${']'.repeat(200_000)}`;
    const field = requestContent('Redacted', Buffer.from(deep), undefined, []);
    expect(field!.text).not.toContain('jane@example.com');
    expect(field!.truncated).toBe(true);
  });

  it('is bounded, redacting before it cuts', () => {
    const long = `${'x'.repeat(AUDIT_CONTENT_CHARS - 5)} jane@example.com`;
    const field = requestContent('Redacted', Buffer.from(long), undefined, []);
    expect(field).toEqual({ text: `${'x'.repeat(AUDIT_CONTENT_CHARS - 5)} [EMA`, truncated: true });
  });
});

describe('responseContent', () => {
  const placeholders = new Placeholders();
  placeholders.placeholderFor('email', 'jane@example.com');
  const captured = { text: 'Wrote to [EMAIL_1] and cc ops@provider.example', truncated: false };

  it('Redacted: the provider text with its own echoes redacted', () => {
    expect(responseContent('Redacted', captured, placeholders, [])).toEqual({
      text: 'Wrote to [EMAIL_1] and cc [EMAIL_1]',
      truncated: false,
    });
  });

  it('Full: as the app received it, placeholders restored, credentials scrubbed', () => {
    expect(
      responseContent('Full', { text: `${captured.text} ${KEY}`, truncated: true }, placeholders, [KEY]),
    ).toEqual({
      text: 'Wrote to jane@example.com and cc ops@provider.example [CREDENTIAL]',
      truncated: true,
    });
  });
});
