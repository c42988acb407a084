// WorkloadIdentity against a local Entra-style token endpoint (test/mocks/token-services.ts) that
// verifies the client assertion with a signing key: the refusal codes of each failure, and the token
// endpoint's breaker (outages open it, a refusing endpoint does not).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, generateKeyPair, jwtVerify } from 'jose';
import { compilePolicy, type CompiledProvider } from '../policy/compile.ts';
import { validatePolicy } from '../../../api/src/policy/validate.ts';
import { KubeletTokenVolume } from '../../../test/helpers/projected-tokens.ts';
import { mockPki } from '../../../test/mocks/pki.ts';
import { startTokenServices, type TokenServices } from '../../../test/mocks/token-services.ts';
import { IdentityError } from './errors.ts';
import { WorkloadIdentity } from './workload-identity.ts';

const AUDIENCE = 'api://AzureADTokenExchange';
const scratch = mkdtempSync(join(tmpdir(), 'chaperone-wi-'));
let services: TokenServices;
let provider: (clientID: string) => CompiledProvider;
let identity: WorkloadIdentity;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer('https://issuer.test')
    .setSubject('system:serviceaccount:apps:bot')
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  const volume = new KubeletTokenVolume(join(scratch, 'tokens'));
  volume.write({ azure: token });
  services = await startTokenServices({
    verify: (jwt, audience) =>
      jwtVerify(jwt, publicKey, {
        issuer: 'https://issuer.test',
        audience,
        subject: 'system:serviceaccount:apps:bot',
      }),
    azure: { tenantID: 't', clientID: 'known', audience: AUDIENCE },
    aws: { roleARN: 'arn:aws:iam::123456789012:role/x', audience: 'sts.amazonaws.com' },
    gcp: { audience: 'x', workloadIdentityProvider: 'x', serviceAccountEmail: 'x@x' },
    oauth2: { audience: 'x', resource: 'x' },
  });
  const ca = (await mockPki()).ca;
  provider = (clientID) => {
    const validated = validatePolicy({
      apiVersion: 'chaperone.dev/v1alpha1',
      kind: 'AIProviderPolicy',
      metadata: { name: 'p' },
      spec: {
        providers: [
          {
            name: `azure-${clientID}`,
            type: 'azure-openai',
            endpoint: 'https://azure.mock.test',
            allowedCIDRs: ['127.0.0.1/32'],
            caBundle: ca,
            credentials: {
              workloadIdentity: {
                exchange: 'azure',
                audience: AUDIENCE,
                tenantID: 't',
                clientID,
                tokenURL: `https://login.mock.test:${services.port}/t/oauth2/v2.0/token`,
              },
            },
          },
        ],
      },
    });
    if (!validated.ok) throw new Error(JSON.stringify(validated.errors));
    const compiled = compilePolicy(validated.policy);
    if (!compiled.ok) throw new Error('compile');
    return compiled.policy.providers[0]!;
  };
  identity = new WorkloadIdentity({
    tokenFiles: new Map([[AUDIENCE, volume.path('azure')]]),
    resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
    sessionName: 'bot',
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetMs: 60_000 },
  });
});

afterAll(async () => {
  await identity.close();
  await services.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function failure(p: CompiledProvider): Promise<IdentityError> {
  const spec = p.credentials;
  if (spec.kind !== 'workload-identity') throw new Error('not workload identity');
  const err = await identity.credential(p, spec).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof IdentityError)) throw new Error(`expected an IdentityError, got ${String(err)}`);
  return err;
}

describe('WorkloadIdentity', () => {
  it('exchanges a verified projected token for a bearer token', async () => {
    const p = provider('known');
    const spec = p.credentials;
    if (spec.kind !== 'workload-identity') throw new Error('not workload identity');
    const credential = await identity.credential(p, spec);
    expect(credential.kind).toBe('bearer');
    expect(services.tokens.get(credential.kind === 'bearer' ? credential.token : '')?.service).toBe('azure');
    expect(identity.secretValues()).toContain(credential.kind === 'bearer' ? credential.token : '');
  });

  it('a refusing endpoint (4xx) is EXCHANGE_REFUSED and does not open the breaker', async () => {
    for (let i = 0; i < 3; i++) {
      const err = await failure(provider('unknown'));
      expect(err.code).toBe('EXCHANGE_REFUSED');
      expect(err.message).toMatch(/400 unauthorized_client: AADSTS700016/);
    }
  });

  it('an outage (5xx) is TOKEN_ENDPOINT_FAILED until the breaker opens; then the endpoint is spared', async () => {
    services.failNext(503, 100);
    // The window holds the earlier answers (a refusal counts as the endpoint working): it opens once
    // failures reach half of it.
    const codes: string[] = [];
    for (let i = 0; i < 12 && codes.at(-1) !== 'TOKEN_ENDPOINT_CIRCUIT_OPEN'; i++)
      codes.push((await failure(provider(`outage-${i}`))).code);
    expect(codes.at(-1)).toBe('TOKEN_ENDPOINT_CIRCUIT_OPEN');
    expect(new Set(codes.slice(0, -1))).toEqual(new Set(['TOKEN_ENDPOINT_FAILED']));
    const calls = services.calls.azure;
    const open = await failure(provider('while-open'));
    expect(open.code).toBe('TOKEN_ENDPOINT_CIRCUIT_OPEN');
    expect(open.message).toMatch(/failed repeatedly; its breaker is open/);
    expect(services.calls.azure).toBe(calls);
    services.failNext(503, 0);
  });
});
