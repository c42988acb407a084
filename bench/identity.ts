// Workload identity on the request path: what the token exchange adds to the first call, what the
// cache adds to later calls, and how often the cache answers under concurrent load. An in-process
// sidecar (real listeners, policy loaded from a file like --policy) calls a local Azure OpenAI
// endpoint two ways, side by side:
//   - secret key: a Secret-held api-key (no identity work at all: the baseline),
//   - workload identity: the projected token exchanged at a local Entra ID token endpoint
//     (client assertion verified against a signing key, like the real one does).
// Each round starts a fresh identity (empty cache) and fresh provider pools, so the first call of
// both rows pays its TLS handshake; the identity row pays the exchange on top.
//
//   node bench/identity.ts            (or: make bench-identity)
//   BENCH_ROUNDS=10 BENCH_LOAD=20000 node bench/identity.ts
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify } from 'jose';
import { pino } from 'pino';
import { PolicyStore } from '../sidecar/src/config/store.ts';
import { loadPolicyFile } from '../sidecar/src/config/policy-file.ts';
import { withWorkloadIdentity } from '../sidecar/src/credentials/identity-credentials.ts';
import { WorkloadIdentity } from '../sidecar/src/credentials/workload-identity.ts';
import { startSidecar, type RunningSidecar } from '../sidecar/src/sidecar.ts';
import { KubeletTokenVolume } from '../test/helpers/projected-tokens.ts';
import { startIdentityProviders } from '../test/mocks/identity-providers.ts';
import { mockPki } from '../test/mocks/pki.ts';
import { startTokenServices } from '../test/mocks/token-services.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '7');
const LATER_CALLS = Number(process.env.BENCH_CALLS ?? '200');
const LOAD_REQUESTS = Number(process.env.BENCH_LOAD ?? '10000');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? '32');
const ISSUER = 'https://kubernetes.bench.local';
const SUBJECT = 'system:serviceaccount:bench:summarizer';
const AUDIENCE = 'api://AzureADTokenExchange';
const KEY = 'bench-static-key-0123456789';

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
const percentile = (v: number[], p: number): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const ms = (v: number): string => `${v.toFixed(2)} ms`;

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'chaperone-bench-identity-'));
  const pki = await mockPki();
  // The "cluster" issuer: a signing key, and projected tokens signed with it.
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const verifyKey = await importJWK(await exportJWK(publicKey), 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(ISSUER)
    .setSubject(SUBJECT)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  const volume = new KubeletTokenVolume(join(scratch, 'tokens'));
  volume.write({ azure: token });

  const verify = (jwt: string, audience: string): Promise<unknown> =>
    jwtVerify(jwt, verifyKey, { issuer: ISSUER, audience, subject: SUBJECT });
  const services = await startTokenServices({
    verify,
    azure: { tenantID: 'tenant-1', clientID: 'client-1', audience: AUDIENCE },
    aws: { roleARN: 'arn:aws:iam::123456789012:role/none', audience: 'sts.amazonaws.com' },
    gcp: { audience: 'none', workloadIdentityProvider: 'none', serviceAccountEmail: 'none@none' },
    oauth2: { audience: 'none', resource: 'none' },
  });
  services.tokens.set(KEY, { service: 'azure', expiresAt: Date.now() + 86_400_000 });
  const providers = await startIdentityProviders({
    services,
    verify,
    bedrockRegion: 'none',
    assertion: { header: 'x-none', audience: 'none' },
  });

  mkdirSync(join(scratch, 'secrets', 'azure-key'), { recursive: true });
  writeFileSync(join(scratch, 'secrets', 'azure-key', 'apiKey'), KEY);
  const endpoint = `https://azure.mock.test:${providers.port}`;
  const common = `    endpoint: ${endpoint}\n    allowedCIDRs: ["127.0.0.1/32"]\n    caBundle: ${JSON.stringify(pki.ca)}\n`;
  const policyFile = join(scratch, 'policy.yaml');
  writeFileSync(
    policyFile,
    `apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: bench-identity}
spec:
  guards: {promptInjection: {action: Off}, tools: {action: Off}, costBurst: {action: Off}}
  dataBoundary: {detectors: [], action: Report}
  providers:
  - name: secret-key
    type: azure-openai
${common}    credentials: {secretRef: {name: azure-key, key: apiKey}}
  - name: identity
    type: azure-openai
${common}    credentials:
      workloadIdentity:
        exchange: azure
        audience: ${AUDIENCE}
        tenantID: tenant-1
        clientID: client-1
        tokenURL: https://login.mock.test:${services.port}/tenant-1/oauth2/v2.0/token
`,
  );
  const loaded = await loadPolicyFile(policyFile, join(scratch, 'secrets'));
  if (!loaded.ok) throw new Error(loaded.message);
  const resolver = (): Promise<{ address: string; family: 4 }[]> =>
    Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
  const logger = pino({ level: 'silent' });
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 });
  const path = (provider: string): string =>
    `/${provider}/openai/deployments/gpt/chat/completions?api-version=2024-10-21`;

  async function round(): Promise<{
    sidecar: RunningSidecar;
    identity: WorkloadIdentity;
    client: Pool;
  }> {
    const identity = new WorkloadIdentity({
      tokenFiles: new Map([[AUDIENCE, volume.path('azure')]]),
      resolver,
      sessionName: 'bench',
    });
    const store = new PolicyStore({ prepare: (l) => withWorkloadIdentity(l, identity, {}) });
    store.apply(loaded.ok ? loaded.loaded : (undefined as never), policyFile);
    const sidecar = await startSidecar({
      store,
      logger,
      resolver,
      processMetrics: false,
      listen: {
        providers: { host: '127.0.0.1', port: 0 },
        forwardProxy: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
      },
    });
    const client = new Pool(`http://127.0.0.1:${sidecar.ports.providers}`, { connections: CONCURRENCY });
    return { sidecar, identity, client };
  }

  async function timed(client: Pool, provider: string): Promise<number> {
    const started = performance.now();
    const res = await client.request({
      method: 'POST',
      path: path(provider),
      headers: { 'content-type': 'application/json', 'api-key': 'placeholder' },
      body,
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${provider}: ${res.statusCode}`);
    return performance.now() - started;
  }

  const first = { key: [] as number[], identity: [] as number[] };
  const later = { key: [] as number[], identity: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const { sidecar, identity, client } = await round();
    // Alternate which row goes first, so neither always meets a cold process.
    const order = r % 2 === 0 ? (['key', 'identity'] as const) : (['identity', 'key'] as const);
    for (const row of order) first[row].push(await timed(client, row === 'key' ? 'secret-key' : 'identity'));
    for (let i = 0; i < LATER_CALLS / ROUNDS; i++)
      for (const row of order)
        later[row].push(await timed(client, row === 'key' ? 'secret-key' : 'identity'));
    await client.close();
    await sidecar.close();
    await identity.close();
  }

  // Under load: a fresh cache, CONCURRENCY callers at once from the first request on.
  const { sidecar, identity, client } = await round();
  const exchangesBefore = services.calls.azure;
  const loadLatency: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < LOAD_REQUESTS) loadLatency.push(await timed(client, 'identity'));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = identity.stats();
  await client.close();
  await sidecar.close();
  await identity.close();

  const rows = [
    ['secret key (baseline)', first.key, later.key],
    ['workload identity (azure)', first.identity, later.identity],
  ] as const;
  console.log(
    `\nworkload identity — ${ROUNDS} rounds, ${LATER_CALLS} later calls per row, Node ${process.version}\n`,
  );
  console.log('| credential | first call (median) | later calls p50 | later calls p99 |');
  console.log('| --- | --- | --- | --- |');
  for (const [label, f, l] of rows)
    console.log(`| ${label} | ${ms(median(f))} | ${ms(percentile(l, 50))} | ${ms(percentile(l, 99))} |`);
  console.log(
    `| **added by identity** | **${ms(median(first.identity) - median(first.key))}** (the exchange) | **${ms(percentile(later.identity, 50) - percentile(later.key, 50))}** (cache) | ${ms(percentile(later.identity, 99) - percentile(later.key, 99))} |`,
  );
  console.log(
    `\nunder load: ${LOAD_REQUESTS} requests, ${CONCURRENCY} concurrent, fresh cache: ` +
      `${(LOAD_REQUESTS / seconds).toFixed(0)} req/s, p50 ${ms(percentile(loadLatency, 50))}, p99 ${ms(percentile(loadLatency, 99))}`,
  );
  console.log(
    `cache: ${stats.hits} hits, ${stats.misses} waited, hit rate ${((100 * stats.hits) / (stats.hits + stats.misses)).toFixed(2)} %; ` +
      `token endpoint calls: ${services.calls.azure - exchangesBefore} (single flight: the ${stats.misses} callers that found no token shared them)`,
  );
  await providers.close();
  await services.close();
  rmSync(scratch, { recursive: true, force: true });
}

await main();
