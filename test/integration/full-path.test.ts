// The whole path on the real apiserver: the webhook injects the sidecar into a Deployment's pod,
// the sidecar (a real chaperone-proxy process with a token bound to that pod) streams its policy
// from the controller, calls a mock provider with the Secret's key, enforces a kill switch thrown
// with the API, keeps enforcing across a controller restart, and refuses once the policy is gone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { get as httpsGet } from 'node:https';
import * as k8s from '@kubernetes/client-node';
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
import { startSidecarProcess, type RunningSidecar } from '../helpers/sidecar-process.ts';
import { startOpenAiMock } from '../mocks/openai.ts';
import { mockPki } from '../mocks/pki.ts';
import type { MockProvider } from '../mocks/provider.ts';

const cluster = useTestCluster('full-path');
const { namespace, core, apps, customObjects } = cluster;
const KEY = 'sk-full-path-7c1e';
const policies = { group: GROUP, version: VERSION, plural: POLICY.plural, namespace };
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const configName = `chaperone-full-path-${namespace}`;

let scratch: string;
let tls: ControllerTls;
let controller: RunningController;
let sidecar: RunningSidecar;
let mock: MockProvider;
let pod: k8s.V1Pod;

const startControllerOn = (port = 0): Promise<RunningController> =>
  startSuiteController(tls, namespace, port);

async function chat(): Promise<{ status: number; code?: string; body: string }> {
  const res = await request(`http://127.0.0.1:${sidecar.ports.providers}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer placeholder-from-the-app' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
  });
  const body = await res.body.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(body) as { code?: string }).code;
  } catch {
    // not JSON
  }
  return { status: res.statusCode, body, ...(code && { code }) };
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'chaperone-full-path-'));
  await ensurePolicyCrd(cluster.kc);
  tls = await controllerTls(scratch);
  controller = await startControllerOn();

  const pki = await mockPki();
  mock = await startOpenAiMock({ acceptKeys: [KEY] });

  await core.patchNamespace(
    { name: namespace, body: { metadata: { labels: { 'chaperone.dev/full-path': 'on' } } } },
    mergePatch,
  );
  await registerInjectionWebhook(cluster.kc, {
    name: configName,
    port: controller.port,
    caPem: tls.caPem,
    namespaceLabels: { 'chaperone.dev/full-path': 'on', 'kubernetes.io/metadata.name': namespace },
  });

  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'openai-key' }, stringData: { apiKey: KEY } },
  });
  await customObjects.createNamespacedCustomObject({
    ...policies,
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
            endpoint: `https://openai.mock.test:${mock.port}`,
            allowedCIDRs: ['127.0.0.1/32'],
            caBundle: pki.ca,
            allowedModels: ['gpt-4o-mini'],
            credentials: { secretRef: { name: 'openai-key', key: 'apiKey' } },
          },
        ],
      },
    },
  });
  // The controller has seen the policy once it writes its status.
  await eventually('policy status', async () => {
    const p = (await customObjects.getNamespacedCustomObject({ ...policies, name: 'checkout' })) as {
      status?: { providers?: string };
    };
    return p.status?.providers === 'openai' ? true : undefined;
  });
});

afterAll(async () => {
  await sidecar?.stop();
  await controller?.stop();
  await mock?.close();
  await unregisterInjectionWebhook(cluster.kc, configName);
  rmSync(scratch, { recursive: true, force: true });
});

describe('the full path', () => {
  it("injects the sidecar into the Deployment's pod, wired for the policy's provider", async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'checkout' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'checkout' } },
          template: {
            metadata: { labels: { app: 'checkout' }, annotations: { 'chaperone.dev/inject': 'true' } },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/checkout:1' }] },
          },
        },
      },
    });
    pod = await eventually(
      'the injected pod',
      async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=checkout' })).items[0],
    );
    expect(pod.spec?.initContainers?.map((c) => c.name)).toContain('chaperone-proxy');
    const env = Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.OPENAI_BASE_URL).toBe('http://127.0.0.1:15000/openai/v1');
    expect(JSON.stringify(pod.spec?.containers[0])).not.toContain(KEY);
  });

  it('runs the sidecar with a token bound to that pod and calls the provider with the Secret key', async () => {
    const { status } = await core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace,
      body: {
        spec: {
          audiences: [CONTROLLER_TOKEN_AUDIENCE],
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
    const tokenFile = join(scratch, 'token');
    writeFileSync(tokenFile, status?.token ?? '');
    sidecar = await startSidecarProcess([
      '--controller-url',
      `https://127.0.0.1:${controller.port}`,
      '--controller-ca',
      tls.caFile,
      '--token-file',
      tokenFile,
      '--pod',
      `${namespace}/${pod.metadata!.name}`,
      '--resolve',
      'openai.mock.test=127.0.0.1',
    ]);
    const reply = await eventually('an allowed call', async () => {
      const r = await chat();
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(reply.body)).toMatchObject({ object: 'chat.completion' });
    expect(mock.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
    await eventually('Enforced 1/1', async () => {
      const p = (await customObjects.getNamespacedCustomObject({ ...policies, name: 'checkout' })) as {
        status?: { enforcement?: { summary: string } };
      };
      return p.status?.enforcement?.summary === '1/1' ? true : undefined;
    });
  });

  it('exports enforcement and admission metrics on the controller', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsGet(
        { host: '127.0.0.1', port: controller.port, path: '/metrics', ca: tls.caPem },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
    });
    expect(text).toContain(
      `chaperone_policy_enforcement_pods{policy_namespace="${namespace}",policy="checkout"} 1`,
    );
    expect(text).toContain(
      `chaperone_policy_enforcement_acknowledged{policy_namespace="${namespace}",policy="checkout"} 1`,
    );
    expect(text).toContain('chaperone_controller_sidecar_streams 1');
    expect(text).toMatch(
      /chaperone_admission_requests_total\{result="injected",reason="POD_OPTED_IN"\} [1-9]/,
    );
  });

  it('enforces a kill switch thrown through the API', async () => {
    const thrown = Date.now();
    await customObjects.patchNamespacedCustomObject(
      { ...policies, name: 'checkout', body: { spec: { killSwitch: true } } },
      mergePatch,
    );
    const refused = await eventually(
      'KILL_SWITCH_ENGAGED',
      async () => {
        const r = await chat();
        return r.code === 'KILL_SWITCH_ENGAGED' ? r : undefined;
      },
      { intervalMs: 5 },
    );
    expect(refused.status).toBe(503);
    expect(Date.now() - thrown).toBeLessThan(5000); // functional bound; bench/ measures p50/p99
  });

  it('keeps enforcing the last good policy while the controller is down, and re-syncs after', async () => {
    const port = controller.port;
    await controller.stop();
    expect((await chat()).code).toBe('KILL_SWITCH_ENGAGED');
    // Released while the controller is away: the sidecar cannot know yet and stays closed.
    await customObjects.patchNamespacedCustomObject(
      { ...policies, name: 'checkout', body: { spec: { killSwitch: false } } },
      mergePatch,
    );
    expect((await chat()).code).toBe('KILL_SWITCH_ENGAGED');
    controller = await startControllerOn(port);
    await eventually('re-synced', async () => ((await chat()).status === 200 ? true : undefined), {
      timeoutMs: 30_000,
    });
  });

  it('refuses everything once the policy is deleted', async () => {
    await customObjects.deleteNamespacedCustomObject({ ...policies, name: 'checkout' });
    const refused = await eventually('EGRESS_DENIED', async () => {
      const r = await chat();
      return r.code === 'EGRESS_DENIED' ? r : undefined;
    });
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain(KEY);
  });
});
