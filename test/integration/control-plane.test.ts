// Policy distribution on the real apiserver: a sidecar authenticated by its projected token gets
// exactly its pod's policies and Secrets, sees every change (kill switches) pushed, acknowledges,
// and the controller writes status. Every kind of bad token is refused with its own code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import express from 'express';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { Agent, request } from 'undici';
import * as k8s from '@kubernetes/client-node';
import type { PolicyBundle } from '../../api/src/bundle.ts';
import { CONTROL_PATHS } from '../../api/src/bundle.ts';
import { CONTROLLER_TOKEN_AUDIENCE, GROUP, POLICY, VERSION } from '../../api/src/names.ts';
import { ControlClient } from '../../sidecar/src/control/client.ts';
import { ControlPlane } from '../../webhook/src/control/control-plane.ts';
import { createLogger } from '../../webhook/src/log.ts';
import { clusterPkiDir, useTestCluster } from '../helpers/cluster.ts';
import { ensurePolicyCrd } from '../helpers/crds.ts';
import { eventually } from '../helpers/eventually.ts';
import { createTestCa } from '../helpers/tls.ts';

const cluster = useTestCluster('control');
const { namespace } = cluster;
const SECRET_VALUE = 'sk-control-plane-test-4f2a9c';
const policies = { group: GROUP, version: VERSION, plural: POLICY.plural };

let logs = '';
let plane: ControlPlane;
let server: Server;
let url: string;
let caPem: string;
let scratch: string;
let otherNamespace: string;
const clients: ControlClient[] = [];

async function createPod(
  name: string,
  ns = namespace,
  labels: Record<string, string> = { app: 'checkout' },
): Promise<k8s.V1Pod> {
  return cluster.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels },
      spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
    },
  });
}

async function podToken(pod: k8s.V1Pod, audience = CONTROLLER_TOKEN_AUDIENCE, bound = true): Promise<string> {
  const { status } = await cluster.core.createNamespacedServiceAccountToken({
    name: 'default',
    namespace: pod.metadata!.namespace!,
    body: {
      spec: {
        audiences: [audience],
        expirationSeconds: 600,
        ...(bound && {
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata!.name!,
            uid: pod.metadata!.uid!,
          },
        }),
      },
    },
  });
  return status?.token ?? '';
}

/** Opens the stream once with raw credentials and returns the refusal code (or 'OPEN'). */
async function streamCode(token: string | undefined, podHeader: string): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  try {
    const res = await request(new URL(CONTROL_PATHS.stream, url), {
      headers: {
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
        'x-chaperone-pod': podHeader,
      },
      dispatcher,
    });
    if (res.statusCode === 200) {
      res.body.destroy();
      return 'OPEN';
    }
    return ((await res.body.json()) as { code: string }).code;
  } finally {
    await dispatcher.close();
  }
}

function startClient(pod: k8s.V1Pod, token: string, seen: PolicyBundle[]): ControlClient {
  const tokenFile = join(scratch, `${pod.metadata!.name}.token`);
  writeFileSync(tokenFile, token);
  const client = new ControlClient({
    url,
    tokenFile,
    pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`,
    ca: caPem,
    onBundle: (bundle) => {
      seen.push(bundle);
      return true;
    },
    backoff: { initialMs: 50, maxMs: 500 },
  });
  clients.push(client);
  client.start();
  return client;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'chaperone-control-'));
  await ensurePolicyCrd(cluster.kc);
  const logger = createLogger(
    'debug',
    new Writable({ write: (chunk: Buffer, _e, done) => ((logs += chunk.toString()), done()) }),
  );
  plane = new ControlPlane({ kc: cluster.kc, logger, statusDelayMs: 20 });
  await plane.start();
  const ca = await createTestCa();
  caPem = ca.caPem;
  const serving = await ca.issueServing();
  const app = express();
  app.use(plane.router);
  server = createServer({ cert: serving.cert, key: serving.key }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

  otherNamespace = `${namespace}-other`;
  await cluster.core.createNamespace({ body: { metadata: { name: otherNamespace } } });
  await eventually('default ServiceAccount', () =>
    cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: otherNamespace }),
  );

  await cluster.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'openai-key' }, stringData: { apiKey: SECRET_VALUE } },
  });
  await cluster.customObjects.createNamespacedCustomObject({
    ...policies,
    namespace,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: POLICY.kind,
      metadata: { name: 'checkout' },
      spec: {
        podSelector: { matchLabels: { app: 'checkout' } },
        providers: [
          {
            name: 'openai',
            type: 'openai',
            endpoint: 'https://api.openai.com',
            credentials: { secretRef: { name: 'openai-key', key: 'apiKey' } },
          },
        ],
      },
    },
  });
  // Selects every pod, but of another namespace: must never reach this namespace's sidecars.
  await cluster.customObjects.createNamespacedCustomObject({
    ...policies,
    namespace: otherNamespace,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: POLICY.kind,
      metadata: { name: 'foreign' },
      spec: {
        providers: [
          {
            name: 'foreign',
            type: 'openai',
            endpoint: 'https://foreign.example.com',
            credentials: { secretRef: { name: 'foreign-key', key: 'k' } },
          },
        ],
      },
    },
  });
  await eventually('policies observed', () => (plane.store.states().length >= 2 ? true : undefined));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await plane?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await cluster.core.deleteNamespace({ name: otherNamespace }).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

describe('a sidecar with a valid projected token', () => {
  const seen: PolicyBundle[] = [];
  let pod: k8s.V1Pod;
  let client: ControlClient;

  it('receives exactly its pod policies and their Secret values, and acknowledges them', async () => {
    pod = await createPod('checkout-1');
    client = startClient(pod, await podToken(pod), seen);
    const first = await eventually('first bundle', () => seen[0]);
    expect(first.namespace).toBe(namespace);
    expect(first.pod).toBe('checkout-1');
    expect(first.policies.map((p) => p.name)).toEqual(['checkout']);
    expect(first.secrets).toEqual({ 'openai-key/apiKey': SECRET_VALUE });
    expect(first.missingSecrets).toEqual([]);
    // Defaults applied by the controller's validator match the apiserver's.
    expect(first.policies[0]!.spec.mode).toBe('Enforce');

    const status = await eventually('status written', async () => {
      const policy = (await cluster.customObjects.getNamespacedCustomObject({
        ...policies,
        namespace,
        name: 'checkout',
      })) as {
        status?: {
          enforcement?: { summary: string };
          conditions?: { type: string; status: string }[];
          providers?: string;
        };
      };
      return policy.status?.enforcement?.summary === '1/1' ? policy.status : undefined;
    });
    expect(status.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True' });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(status.providers).toBe('openai');
    expect(client.status.connected).toBe(true);
  });

  it('gets a kill switch pushed within moments of the API write', async () => {
    const before = seen.length;
    const started = Date.now();
    await cluster.customObjects.patchNamespacedCustomObject(
      { ...policies, namespace, name: 'checkout', body: { spec: { killSwitch: true } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const flipped = await eventually('kill switch bundle', () =>
      seen.slice(before).find((b) => b.policies[0]?.spec.killSwitch),
    );
    const elapsed = Date.now() - started;
    expect(flipped.policies[0]!.generation).toBe(2);
    expect(elapsed).toBeLessThan(5000); // functional bound; bench/ measures p50/p99
    await eventually('enforcement of generation 2', async () => {
      const policy = (await cluster.customObjects.getNamespacedCustomObject({
        ...policies,
        namespace,
        name: 'checkout',
      })) as {
        status?: { enforcement?: { generation: number; acknowledged: number } };
      };
      return policy.status?.enforcement?.generation === 2 && policy.status.enforcement.acknowledged === 1
        ? true
        : undefined;
    });
  });

  it('records the kill switch as an Event on the policy', async () => {
    const events = await eventually('KillSwitchEngaged event', async () => {
      const list = await cluster.core.listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.name=checkout',
      });
      return list.items.some((e) => e.reason === 'KillSwitchEngaged') ? list.items : undefined;
    });
    const engaged = events.find((e) => e.reason === 'KillSwitchEngaged')!;
    expect(engaged.type).toBe('Warning');
    expect(engaged.involvedObject.kind).toBe('AIProviderPolicy');
    expect(engaged.message).toBe('kill switch engaged: every request under this policy is refused');
  });

  it('turns sidecar reports into ProviderDegraded and one aggregated refusal Event', async () => {
    const report = {
      breakers: { openai: 'open' as const },
      refusals: [{ policy: 'checkout', provider: 'openai', code: 'EGRESS_DENIED', count: 3 }],
    };
    expect(await client.report(report)).toBe(true);
    expect(await client.report({ ...report, refusals: [{ ...report.refusals[0]!, count: 4 }] })).toBe(true);
    const degraded = await eventually('ProviderDegraded', async () => {
      const policy = (await cluster.customObjects.getNamespacedCustomObject({
        ...policies,
        namespace,
        name: 'checkout',
      })) as {
        status?: { conditions?: { type: string; status: string; message: string }[] };
      };
      const condition = policy.status?.conditions?.find((c) => c.type === 'ProviderDegraded');
      return condition?.status === 'True' ? condition : undefined;
    });
    expect(degraded.message).toBe('openai: circuit open in 1 of 1 pods');
    const event = await eventually('aggregated refusal event', async () => {
      const list = await cluster.core.listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.name=checkout',
      });
      return list.items.find((e) => e.reason === 'RequestsRefused' && e.count === 7);
    });
    expect(event.message).toBe('requests refused with EGRESS_DENIED for provider openai');
    const all = await cluster.core.listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.name=checkout',
    });
    expect(all.items.filter((e) => e.reason === 'RequestsRefused')).toHaveLength(1);
    // Closed again: the condition clears.
    expect(await client.report({ breakers: { openai: 'closed' }, refusals: [] })).toBe(true);
    await eventually('ProviderDegraded False', async () => {
      const policy = (await cluster.customObjects.getNamespacedCustomObject({
        ...policies,
        namespace,
        name: 'checkout',
      })) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return policy.status?.conditions?.find((c) => c.type === 'ProviderDegraded')?.status === 'False'
        ? true
        : undefined;
    });
  });

  it('refuses a malformed report', async () => {
    const token = readFileSync(join(scratch, 'checkout-1.token'), 'utf8');
    const dispatcher = new Agent({ connect: { ca: caPem } });
    const res = await request(new URL(CONTROL_PATHS.report, url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-chaperone-pod': `${namespace}/checkout-1`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ breakers: { openai: 'melted' }, refusals: [] }),
      dispatcher,
    });
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as { code: string }).code).toBe('BAD_REQUEST');
    await dispatcher.close();
  });

  it('reports a missing Secret on Ready, and the provider in missingSecrets', async () => {
    await cluster.customObjects.patchNamespacedCustomObject(
      {
        ...policies,
        namespace,
        name: 'checkout',
        body: {
          spec: {
            killSwitch: false,
            providers: [
              {
                name: 'openai',
                type: 'openai',
                endpoint: 'https://api.openai.com',
                credentials: { secretRef: { name: 'absent', key: 'apiKey' } },
              },
            ],
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const bundle = await eventually('bundle without the secret', () =>
      seen.find((b) => b.missingSecrets.length > 0),
    );
    expect(bundle.missingSecrets).toEqual(['absent/apiKey']);
    expect(bundle.secrets).toEqual({});
    const ready = await eventually('Ready False SecretMissing', async () => {
      const policy = (await cluster.customObjects.getNamespacedCustomObject({
        ...policies,
        namespace,
        name: 'checkout',
      })) as {
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      };
      const condition = policy.status?.conditions?.find((c) => c.type === 'Ready');
      return condition?.reason === 'SecretMissing' ? condition : undefined;
    });
    expect(ready).toMatchObject({ status: 'False', message: 'Secret absent does not exist' });
  });

  it('loses its stream when its pod is deleted, and its token no longer opens one', async () => {
    const token = readFileSync(join(scratch, 'checkout-1.token'), 'utf8');
    await cluster.core.deleteNamespacedPod({ name: 'checkout-1', namespace, gracePeriodSeconds: 0 });
    await eventually('stream closed', () => (plane.hub.size === 0 ? true : undefined));
    expect(await streamCode(token, `${namespace}/checkout-1`)).toBe('POD_NOT_FOUND');
    await client.stop();
  });
});

describe('bad tokens are refused with distinct codes', () => {
  let pod: k8s.V1Pod;
  let header: string;
  beforeAll(async () => {
    pod = await createPod('checkout-2');
    header = `${namespace}/checkout-2`;
  });

  it('a valid token opens the stream (control case)', async () => {
    expect(await streamCode(await podToken(pod), header)).toBe('OPEN');
  });

  it('TOKEN_MISSING without a token', async () => {
    expect(await streamCode(undefined, header)).toBe('TOKEN_MISSING');
  });

  it('TOKEN_MALFORMED for garbage', async () => {
    expect(await streamCode('not-a-jwt', header)).toBe('TOKEN_MALFORMED');
  });

  it('TOKEN_AUDIENCE_MISMATCH for a token meant for someone else', async () => {
    expect(await streamCode(await podToken(pod, 'api://AzureADTokenExchange'), header)).toBe(
      'TOKEN_AUDIENCE_MISMATCH',
    );
  });

  it('TOKEN_NOT_POD_BOUND for a service-account token without a pod', async () => {
    expect(await streamCode(await podToken(pod, CONTROLLER_TOKEN_AUDIENCE, false), header)).toBe(
      'TOKEN_NOT_POD_BOUND',
    );
  });

  it('TOKEN_SIGNATURE_INVALID for a token forged with another key', async () => {
    const genuine = await podToken(pod);
    const { kid } = decodeProtectedHeader(genuine);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const [, body] = genuine.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: kid! }).sign(privateKey);
    expect(await streamCode(forged, header)).toBe('TOKEN_SIGNATURE_INVALID');
  });

  it("TOKEN_EXPIRED for a genuine signature whose time is up (signed with the cluster's key)", async () => {
    const genuine = await podToken(pod);
    const { kid } = decodeProtectedHeader(genuine);
    const claims = JSON.parse(Buffer.from(genuine.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      number
    >;
    const key = createPrivateKey(readFileSync(join(clusterPkiDir(), 'sa.key')));
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ ...claims, iat: now - 1200, nbf: now - 1200, exp: now - 600 })
      .setProtectedHeader({ alg: 'RS256', kid: kid! })
      .sign(key);
    expect(await streamCode(expired, header)).toBe('TOKEN_EXPIRED');
  });

  it('POD_MISMATCH when a token is presented for another namespace', async () => {
    expect(await streamCode(await podToken(pod), `${otherNamespace}/checkout-2`)).toBe('POD_MISMATCH');
  });

  it('POD_UID_MISMATCH when the pod was replaced under the same name', async () => {
    const token = await podToken(pod);
    await cluster.core.deleteNamespacedPod({ name: 'checkout-2', namespace, gracePeriodSeconds: 0 });
    await createPod('checkout-2');
    expect(await streamCode(token, header)).toBe('POD_UID_MISMATCH');
  });
});

describe('the audit trail', () => {
  it('never contains the Secret value or a token', () => {
    expect(logs).toContain('sidecar stream opened');
    expect(logs).not.toContain(SECRET_VALUE);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
  });
});
