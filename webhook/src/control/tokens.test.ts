// The token verifier against locally signed tokens: every refusal code, and JWKS refetch on an
// unknown key id. (The real apiserver's tokens are exercised in test/integration/control-plane.)
import { describe, expect, it } from '@jest/globals';
import { SignJWT, exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';
import { refreshingJwks, tokenVerifier, type LivePod } from './tokens.ts';
import type { ControlRefusal } from './refusals.ts';

const ISSUER = 'https://cluster.example';
const AUDIENCE = 'chaperone.dev/controller';
const { privateKey, publicKey } = await generateKeyPair('RS256');
const other = await generateKeyPair('RS256');
const jwks: JSONWebKeySet = {
  keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
};

const pods: Record<string, LivePod> = { 'team/app-1': { uid: 'uid-1', labels: { app: 'x' } } };
const verify = tokenVerifier({
  issuer: ISSUER,
  keys: refreshingJwks(() => Promise.resolve(jwks)),
  readPod: (ns, name) => Promise.resolve(pods[`${ns}/${name}`]),
});

interface Claims {
  iss?: string;
  aud?: string;
  exp?: number;
  pod?: { name: string; uid: string } | null;
}
async function token(
  { iss = ISSUER, aud = AUDIENCE, exp, pod = { name: 'app-1', uid: 'uid-1' } }: Claims = {},
  key = privateKey,
  kid = 'k1',
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    'kubernetes.io': { namespace: 'team', ...(pod && { pod }), serviceaccount: { name: 'default' } },
  })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer(iss)
    .setAudience(aud)
    .setSubject('system:serviceaccount:team:default')
    .setIssuedAt(now - 10)
    .setExpirationTime(exp ?? now + 600)
    .sign(key);
}

async function code(t: string | undefined): Promise<string> {
  try {
    await verify(t);
    return 'OK';
  } catch (err) {
    return (err as ControlRefusal).code;
  }
}

describe('tokenVerifier', () => {
  it('accepts a pod-bound token and returns the identity with the live labels', async () => {
    await expect(verify(await token())).resolves.toMatchObject({
      namespace: 'team',
      podName: 'app-1',
      podUid: 'uid-1',
      podLabels: { app: 'x' },
      serviceAccount: 'default',
    });
  });

  it.each<[string, () => Promise<string | undefined>]>([
    ['TOKEN_MISSING', () => Promise.resolve(undefined)],
    ['TOKEN_MALFORMED', () => Promise.resolve('a.b')],
    ['TOKEN_EXPIRED', () => token({ exp: Math.floor(Date.now() / 1000) - 120 })],
    ['TOKEN_AUDIENCE_MISMATCH', () => token({ aud: 'sts.amazonaws.com' })],
    ['TOKEN_ISSUER_MISMATCH', () => token({ iss: 'https://other.example' })],
    ['TOKEN_SIGNATURE_INVALID', () => token({}, other.privateKey)],
    ['TOKEN_SIGNATURE_INVALID', () => token({}, other.privateKey, 'unknown-kid')],
    ['TOKEN_NOT_POD_BOUND', () => token({ pod: null })],
    ['POD_NOT_FOUND', () => token({ pod: { name: 'gone', uid: 'uid-9' } })],
    ['POD_UID_MISMATCH', () => token({ pod: { name: 'app-1', uid: 'uid-old' } })],
  ])('refuses with %s', async (expected, make) => {
    expect(await code(await make())).toBe(expected);
  });
});

describe('refreshingJwks', () => {
  it('refetches for an unknown key id after the cooldown, and not again within it', async () => {
    let fetches = 0;
    const rotated: JSONWebKeySet = {
      keys: [...jwks.keys, { ...(await exportJWK(other.publicKey)), kid: 'k2', alg: 'RS256' }],
    };
    const keys = refreshingJwks(() => Promise.resolve(++fetches === 1 ? jwks : rotated), 100);
    const rotatedVerify = tokenVerifier({
      issuer: ISSUER,
      keys,
      readPod: () => Promise.resolve(pods['team/app-1']),
    });
    await rotatedVerify(await token());
    expect(fetches).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150)); // past the cooldown
    await rotatedVerify(await token({}, other.privateKey, 'k2'));
    expect(fetches).toBe(2);
    await expect(rotatedVerify(await token({}, privateKey, 'k3'))).rejects.toMatchObject({
      code: 'TOKEN_SIGNATURE_INVALID',
    });
    expect(fetches).toBe(2);
  });
});
