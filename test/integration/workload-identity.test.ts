// Workload identity end to end on the real apiserver: the webhook mounts a projected token for every
// audience the pod's policy needs (sidecar only), a real chaperone-proxy reads tokens issued by the
// TokenRequest API for that pod, exchanges them at local token services that verify each one
// against the apiserver's JWKS (issuer, audience, expiry, subject) before issuing anything, and
// calls Azure OpenAI (Entra token), Bedrock (SigV4, verified independently), Vertex AI (STS +
// impersonation) and an internal gateway (RFC 8693 + identity assertion + traffic tags). Tokens
// rotate mid-stream without a failed request; the app container holds no credential.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type * as k8s from '@kubernetes/client-node';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { SIDECAR_CONTAINER_NAME, TOKEN_VOLUME_NAME } from '../../api/src/injection.ts';
import { CONTROLLER_TOKEN_AUDIENCE, GROUP, POLICY, VERSION } from '../../api/src/names.ts';
import { useTestCluster } from '../helpers/cluster.ts';
import {
  controllerTls,
  registerInjectionWebhook,
  startSuiteController,
  unregisterInjectionWebhook,
  type ControllerTls,
  type RunningController,
} from '../helpers/controller.ts';
import { ensurePolicyCrd } from '../helpers/crds.ts';
import { eventually } from '../helpers/eventually.ts';
import { KubeletTokenVolume } from '../helpers/projected-tokens.ts';
import { startSidecarProcess, type RunningSidecar } from '../helpers/sidecar-process.ts';
import { startIdentityProviders, type IdentityProviders } from '../mocks/identity-providers.ts';
import { mockPki } from '../mocks/pki.ts';
import { startTokenServices, type TokenServices } from '../mocks/token-services.ts';

const cluster = useTestCluster('identity');
const { namespace, core, apps, customObjects } = cluster;
const SA = 'summarizer';
const policies = { group: GROUP, version: VERSION, plural: POLICY.plural, namespace };
const configName = `chaperone-identity-${namespace}`;
const AUD = {
  azure: 'api://AzureADTokenExchange',
  aws: 'sts.amazonaws.com',
  gcp: 'https://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/k8s',
  gateway: 'https://gateway.internal',
  assertion: 'https://gateway.internal/assertion',
};
const ASSERTION_HEADER = 'x-workload-identity';
const REGION = 'eu-west-1';

let scratch: string;
let tls: ControllerTls;
let controller: RunningController;
let sidecar: RunningSidecar;
let services: TokenServices;
let providers: IdentityProviders;
let pod: k8s.V1Pod;
let volume: KubeletTokenVolume;
let verify: (token: string, audience: string) => Promise<unknown>;
let tokenFiles: Record<string, string>;

async function issueTokens(): Promise<void> {
  const files: Record<string, string> = {};
  for (const source of pod.spec!.volumes!.find((v) => v.name === TOKEN_VOLUME_NAME)!.projected!.sources!) {
    const { audience, path } = source.serviceAccountToken!;
    const { status } = await core.createNamespacedServiceAccountToken({
      name: SA,
      namespace,
      body: {
        spec: {
          audiences: [audience!],
          expirationSeconds: 600,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata!.name!,
            uid: pod.metadata!.uid!,
          },
        },
      },
    });
    files[path] = status?.token ?? '';
  }
  volume.write(files);
}

async function call(
  provider: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; code?: string }> {
  const res = await request(`http://127.0.0.1:${sidecar.ports.providers}/${provider}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer chaperone-managed-placeholder',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    // not JSON
  }
  return { status: res.statusCode, body: text, ...(code && { code }) };
}

const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] };
const callGateway = (headers: Record<string, string> = {}): ReturnType<typeof call> =>
  call('gateway', '/v1/chat/completions', chatBody, headers);

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'chaperone-identity-'));
  volume = new KubeletTokenVolume(join(scratch, 'tokens'));
  await ensurePolicyCrd(cluster.kc);
  const pki = await mockPki();

  // The token services trust the cluster's issuer, as a federated identity configuration does.
  const discovery = JSON.parse((await cluster.getRaw('/.well-known/openid-configuration')).body) as {
    issuer: string;
    jwks_uri: string;
  };
  const jwks = createLocalJWKSet(
    JSON.parse((await cluster.getRaw(new URL(discovery.jwks_uri).pathname)).body) as JSONWebKeySet,
  );
  verify = (token, audience) =>
    jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience,
      subject: `system:serviceaccount:${namespace}:${SA}`,
    });
  services = await startTokenServices({
    verify,
    azure: { tenantID: 'tenant-1', clientID: 'client-1', audience: AUD.azure },
    aws: { roleARN: 'arn:aws:iam::123456789012:role/summarizer', audience: AUD.aws },
    gcp: {
      audience: AUD.gcp,
      workloadIdentityProvider: 'projects/123/locations/global/workloadIdentityPools/pool/providers/k8s',
      serviceAccountEmail: 'vertex-caller@proj.iam.gserviceaccount.com',
    },
    oauth2: { audience: AUD.gateway, resource: 'ai-gateway' },
  });
  providers = await startIdentityProviders({
    services,
    verify,
    bedrockRegion: REGION,
    assertion: { header: ASSERTION_HEADER, audience: AUD.assertion },
  });

  tls = await controllerTls(scratch);
  controller = await startSuiteController(tls, namespace);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: SA } } });
  await registerInjectionWebhook(cluster.kc, {
    name: configName,
    port: controller.port,
    caPem: tls.caPem,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
  });

  const tokenHost = (name: string): string => `https://${name}.mock.test:${services.port}`;
  const common = { allowedCIDRs: ['127.0.0.1/32'], caBundle: pki.ca };
  await customObjects.createNamespacedCustomObject({
    ...policies,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: POLICY.kind,
      metadata: { name: 'summarizer' },
      spec: {
        podSelector: { matchLabels: { app: 'summarizer' } },
        providers: [
          {
            name: 'azure',
            type: 'azure-openai',
            endpoint: `https://azure.mock.test:${providers.port}`,
            ...common,
            credentials: {
              workloadIdentity: {
                exchange: 'azure',
                audience: AUD.azure,
                tenantID: 'tenant-1',
                clientID: 'client-1',
                tokenURL: `${tokenHost('login')}/tenant-1/oauth2/v2.0/token`,
              },
            },
          },
          {
            name: 'azure-unknown-client',
            type: 'azure-openai',
            endpoint: `https://azure.mock.test:${providers.port}`,
            ...common,
            credentials: {
              workloadIdentity: {
                exchange: 'azure',
                audience: AUD.azure,
                tenantID: 'tenant-1',
                clientID: 'client-nobody-registered',
                tokenURL: `${tokenHost('login')}/tenant-1/oauth2/v2.0/token`,
              },
            },
          },
          {
            name: 'bedrock',
            type: 'bedrock',
            endpoint: `https://bedrock.mock.test:${providers.port}`,
            ...common,
            credentials: {
              workloadIdentity: {
                exchange: 'aws',
                audience: AUD.aws,
                roleARN: 'arn:aws:iam::123456789012:role/summarizer',
                region: REGION,
                tokenURL: `${tokenHost('sts')}/`,
              },
            },
          },
          {
            name: 'vertex',
            type: 'vertex',
            endpoint: `https://vertex.mock.test:${providers.port}`,
            ...common,
            credentials: {
              workloadIdentity: {
                exchange: 'gcp',
                audience: AUD.gcp,
                workloadIdentityProvider:
                  'projects/123/locations/global/workloadIdentityPools/pool/providers/k8s',
                serviceAccountEmail: 'vertex-caller@proj.iam.gserviceaccount.com',
                tokenURL: `${tokenHost('gcpsts')}/v1/token`,
                serviceAccountImpersonationURL: tokenHost('iam'),
              },
            },
          },
          {
            name: 'gateway',
            type: 'generic',
            endpoint: `https://gateway.mock.test:${providers.port}/gw`,
            ...common,
            credentials: {
              workloadIdentity: {
                exchange: 'oauth2-token-exchange',
                audience: AUD.gateway,
                tokenURL: `${tokenHost('sso')}/oauth2/token`,
                resource: 'ai-gateway',
              },
            },
            identity: { assertion: { header: ASSERTION_HEADER, audience: AUD.assertion }, trafficTags: true },
          },
        ],
      },
    },
  });
  await eventually('policy accepted', async () => {
    const p = (await customObjects.getNamespacedCustomObject({ ...policies, name: 'summarizer' })) as {
      status?: { providers?: string };
    };
    return p.status?.providers?.includes('gateway') ? true : undefined;
  });
});

afterAll(async () => {
  await sidecar?.stop();
  await controller?.stop();
  await services?.close();
  await providers?.close();
  await unregisterInjectionWebhook(cluster.kc, configName);
  rmSync(scratch, { recursive: true, force: true });
});

describe('workload identity', () => {
  it('mounts a projected token for each audience the policy needs, into the sidecar only', async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'summarizer' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'summarizer' } },
          template: {
            metadata: { labels: { app: 'summarizer' }, annotations: { 'chaperone.dev/inject': 'true' } },
            spec: {
              serviceAccountName: SA,
              containers: [{ name: 'app', image: 'registry.invalid/summarizer:1' }],
            },
          },
        },
      },
    });
    pod = await eventually(
      'the injected pod',
      async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=summarizer' })).items[0],
    );
    const sources = pod.spec!.volumes!.find((v) => v.name === TOKEN_VOLUME_NAME)!.projected!.sources!;
    expect(sources.map((s) => s.serviceAccountToken?.audience).sort()).toEqual(
      [CONTROLLER_TOKEN_AUDIENCE, AUD.azure, AUD.aws, AUD.gcp, AUD.gateway, AUD.assertion].sort(),
    );
    const proxy = pod.spec!.initContainers!.find((c) => c.name === SIDECAR_CONTAINER_NAME)!;
    expect(proxy.volumeMounts?.map((m) => m.name)).toContain(TOKEN_VOLUME_NAME);
    const env = Object.fromEntries((proxy.env ?? []).map((e) => [e.name, e.value]));
    tokenFiles = JSON.parse(env.CHAPERONE_TOKEN_FILES!) as Record<string, string>;
    expect(Object.keys(tokenFiles).sort()).toEqual(
      sources.map((s) => s.serviceAccountToken!.audience!).sort(),
    );
  });

  it('runs the sidecar on tokens the TokenRequest API issued for that pod', async () => {
    await issueTokens();
    // The same file names as in the pod, under this test's volume directory.
    const files = Object.fromEntries(
      Object.entries(tokenFiles).map(([audience, file]) => [audience, volume.path(file.split('/').at(-1)!)]),
    );
    sidecar = await startSidecarProcess(
      [
        '--controller-url',
        `https://127.0.0.1:${controller.port}`,
        '--controller-ca',
        tls.caFile,
        '--pod',
        `${namespace}/${pod.metadata!.name}`,
        ...['azure', 'bedrock', 'vertex', 'gateway', 'login', 'sts', 'gcpsts', 'iam', 'sso'].flatMap((h) => [
          '--resolve',
          `${h}.mock.test=127.0.0.1`,
        ]),
      ],
      20_000,
      {
        CHAPERONE_TOKEN_FILES: JSON.stringify(files),
        CHAPERONE_POD_NAMESPACE: namespace,
        CHAPERONE_POD_NAME: pod.metadata!.name!,
        CHAPERONE_SERVICE_ACCOUNT: SA,
      },
    );
    await eventually('policy loaded', async () => ((await callGateway()).status === 200 ? true : undefined));
  });

  it('Azure OpenAI: federated client assertion → Entra token → Authorization: Bearer', async () => {
    const reply = await call(
      'azure',
      '/openai/deployments/gpt/chat/completions?api-version=2024-10-21',
      chatBody,
    );
    expect(reply.status).toBe(200);
    const last = providers.calls.filter((c) => c.api === 'azure').at(-1)!;
    expect(last).toMatchObject({ ok: true });
    expect(services.tokens.get(last.headers.authorization!.replace('Bearer ', ''))?.service).toBe('azure');
    expect(last.headers['api-key']).toBeUndefined();
  });

  it('Bedrock: STS AssumeRoleWithWebIdentity → SigV4 that an independent verifier accepts', async () => {
    const reply = await call('bedrock', '/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke', {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(reply.status).toBe(200);
    const last = providers.calls.filter((c) => c.api === 'bedrock').at(-1)!;
    expect(last).toMatchObject({ ok: true });
    expect(last.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIA[0-9A-F]+\/\d{8}\/eu-west-1\/bedrock\//,
    );
    expect(services.aws.size).toBe(1);
  });

  it('never returns the token exchanged for a request to the app, not even on that first request', async () => {
    const reply = await call(
      'vertex',
      '/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.0-flash:echoCredential',
      { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] },
    );
    expect(reply.status).toBe(400);
    const sent = providers.calls.filter((c) => c.api === 'vertex').at(-1)!.headers.authorization as string;
    const token = sent.replace('Bearer ', '');
    expect(services.tokens.get(token)?.service).toBe('gcp-iam');
    expect(reply.body).not.toContain(token);
    expect(reply.body).toContain('[redacted]');
  });

  it('Vertex AI: Google STS exchange, then service-account impersonation', async () => {
    const reply = await call(
      'vertex',
      '/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent',
      { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] },
    );
    expect(reply.status).toBe(200);
    expect(providers.calls.filter((c) => c.api === 'vertex').at(-1)).toMatchObject({ ok: true });
    expect(services.calls['gcp-sts']).toBe(1);
    expect(services.calls['gcp-iam']).toBe(1);
  });

  it('internal gateway: RFC 8693 token, identity assertion and traffic tags; what the app set is replaced', async () => {
    const reply = await callGateway({
      [ASSERTION_HEADER]: 'forged-by-the-app',
      'x-chaperone-namespace': 'kube-system',
      'x-chaperone-service-account': 'admin',
    });
    expect(reply.status).toBe(200);
    const last = providers.calls.filter((c) => c.api === 'gateway').at(-1)!;
    expect(last).toMatchObject({ ok: true });
    expect(last.headers[ASSERTION_HEADER]).not.toBe('forged-by-the-app');
    expect(decodeJwt(last.headers[ASSERTION_HEADER] as string).aud).toEqual([AUD.assertion]);
    expect(last.headers['x-chaperone-namespace']).toBe(namespace);
    expect(last.headers['x-chaperone-service-account']).toBe(SA);
    expect(last.headers['x-chaperone-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exchanges once per credential: later calls are served from the cache', async () => {
    const before = { ...services.calls };
    await Promise.all(Array.from({ length: 20 }, () => callGateway()));
    for (let i = 0; i < 5; i++)
      expect((await call('bedrock', '/model/m/invoke', { max_tokens: 1, messages: [] })).status).toBe(200);
    expect(services.calls).toEqual(before);
  });

  it('refuses with IDENTITY_UNAVAILABLE when the token service refuses the exchange', async () => {
    const reply = await call('azure-unknown-client', '/openai/deployments/gpt/chat/completions', chatBody);
    expect(reply.status).toBe(503);
    const body = JSON.parse(reply.body) as {
      code: string;
      reason: string;
      policy: string;
      provider: string;
      rule: string;
    };
    expect(body).toMatchObject({
      code: 'IDENTITY_UNAVAILABLE',
      policy: 'summarizer',
      provider: 'azure-unknown-client',
      rule: 'spec.providers[1].credentials.workloadIdentity',
    });
    expect(body.reason).toMatch(
      /refused the exchange: 400 unauthorized_client: AADSTS700016.*\[EXCHANGE_REFUSED\]$/,
    );
  });

  it('the token services refuse a token for another audience (the app’s own service-account token)', async () => {
    // What the app container could read: the default kube-api-access token, audience the apiserver.
    const { status } = await core.createNamespacedServiceAccountToken({
      name: SA,
      namespace,
      body: { spec: { expirationSeconds: 600 } },
    });
    const appToken = status?.token ?? '';
    await expect(verify(appToken, AUD.azure)).rejects.toThrow(/aud/);
    const res = await request(`https://127.0.0.1:${services.port}/tenant-1/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'client-1',
        scope: 'https://cognitiveservices.azure.com/.default',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: appToken,
      }).toString(),
      dispatcher: new (await import('undici')).Agent({ connect: { ca: (await mockPki()).ca } }),
    });
    expect(res.statusCode).toBe(401);
    expect(((await res.body.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('follows a token rotation in the middle of a stream of requests, without a failed request', async () => {
    const presented = (): string =>
      providers.calls.filter((c) => c.api === 'gateway' && c.ok).at(-1)!.headers[ASSERTION_HEADER] as string;
    expect((await callGateway()).status).toBe(200);
    const old = presented();
    await issueTokens(); // the kubelet's rotation: a new directory, then one symlink swap
    const statuses: number[] = [];
    const rotated = await eventually(
      'the rotated assertion',
      async () => {
        const reply = await callGateway();
        statuses.push(reply.status);
        return presented() !== old ? presented() : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(statuses.length).toBeGreaterThan(1);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(decodeJwt(rotated).iat).toBeGreaterThanOrEqual(decodeJwt(old).iat!);
  });

  it('leaves no credential where the app container can reach it (env, mounts), nor in the logs', () => {
    const app = pod.spec!.containers.find((c) => c.name === 'app')!;
    expect(app.volumeMounts?.some((m) => m.name === TOKEN_VOLUME_NAME) ?? false).toBe(false);
    // Only the standard kube-api-access volume may be mounted (audience: the apiserver).
    for (const mount of app.volumeMounts ?? []) expect(mount.name).toMatch(/^kube-api-access-/);
    const appText = JSON.stringify(app);
    const secrets = [
      ...services.tokens.keys(),
      ...[...services.aws.entries()].flatMap(([id, c]) => [id, c.secretAccessKey, c.sessionToken]),
      ...providers.calls
        .map((c) => c.headers[ASSERTION_HEADER])
        .filter((t): t is string => typeof t === 'string'),
    ];
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(appText).not.toContain(secret);
    const logs = JSON.stringify(sidecar.logs);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(sidecar.logs.some((l) => l.event === 'identity_exchanged')).toBe(true);
  });
});
