// The sidecar's signer (the AWS SDK's) against an independent verifier written from the spec, and
// the verifier against AWS's published test vector, so neither can be wrong in the same way.
import { describe, expect, it } from '@jest/globals';
import { verifySigV4, type ReceivedRequest } from '../../../test/mocks/sigv4-verify.ts';
import { signSigV4 } from './sigv4.ts';

describe('the independent verifier', () => {
  // AWS SigV4 test suite, "get-vanilla".
  const vector: ReceivedRequest = {
    method: 'GET',
    url: '/',
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    },
    body: Buffer.alloc(0),
  };
  const options = {
    region: 'us-east-1',
    service: 'service',
    now: Date.UTC(2015, 7, 30, 12, 36),
    lookup: (id: string) =>
      id === 'AKIDEXAMPLE' ? { secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' } : undefined,
  };

  it("accepts AWS's published get-vanilla signature", () => {
    expect(verifySigV4(vector, options)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
  });

  it.each([
    ['another method', { method: 'POST' }, 'signature does not match'],
    ['another path', { url: '/other' }, 'signature does not match'],
    ['a query added', { url: '/?a=b' }, 'signature does not match'],
    [
      'another host',
      { headers: { ...vector.headers, host: 'evil.example.com' } },
      'signature does not match',
    ],
  ])('refuses the vector with %s', (_name, change, reason) => {
    expect(verifySigV4({ ...vector, ...change }, options)).toEqual({ ok: false, reason });
  });
});

describe('signSigV4', () => {
  const credential = {
    kind: 'aws' as const,
    accessKeyId: 'ASIATESTKEY',
    secretAccessKey: 'secret/with+chars',
    sessionToken: 'session-token-1',
    expiresAt: Date.now() + 3_600_000,
  };
  const lookup = (id: string): { secretAccessKey: string; sessionToken: string } | undefined =>
    id === credential.accessKeyId ? credential : undefined;
  const body = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }));
  const path = '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke?trace=on&a=1';

  async function received(overrides: Partial<ReceivedRequest> = {}): Promise<ReceivedRequest> {
    const headers = await signSigV4(
      { method: 'POST', origin: 'https://bedrock.mock.test:8443', path, body },
      credential,
      'eu-west-1',
    );
    return {
      method: 'POST',
      url: path,
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      ...overrides,
    };
  }

  it('signs host (with its port), date, session token and body hash for bedrock in the region', async () => {
    const request = await received();
    expect(request.headers.host).toBe('bedrock.mock.test:8443');
    expect(request.headers['x-amz-security-token']).toBe('session-token-1');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIATESTKEY\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=/,
    );
    expect(verifySigV4(request, { region: 'eu-west-1', service: 'bedrock', lookup })).toEqual({
      ok: true,
      accessKeyId: 'ASIATESTKEY',
    });
  });

  it.each([
    [
      'a changed body',
      { body: Buffer.from('{"messages":[]}') },
      'x-amz-content-sha256 does not match the body',
    ],
    ['another model', { url: path.replace('sonnet', 'opus') }, 'signature does not match'],
    ['another region', {}, 'credential scope eu-west-1/bedrock is not us-east-1/bedrock'],
  ])('fails verification with %s', async (name, change, reason) => {
    const region = name === 'another region' ? 'us-east-1' : 'eu-west-1';
    expect(verifySigV4(await received(change), { region, service: 'bedrock', lookup })).toEqual({
      ok: false,
      reason,
    });
  });
});
