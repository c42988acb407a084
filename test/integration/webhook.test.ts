// The admission webhook against the real apiserver: chaperone-controller runs as a child process on
// loopback and is registered with a MutatingWebhookConfiguration (url + caBundle, failurePolicy
// Fail, reinvocationPolicy IfNeeded, sideEffects None, timeoutSeconds 5). Its namespaceSelector
// also requires a label unique to this suite, so stopping the controller never affects other
// suites sharing the cluster. No kubelet runs: injection is checked on the stored Pod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:https';
import { connect } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { useTestCluster } from '../helpers/cluster.ts';
import { startController, type RunningController } from '../helpers/controller.ts';
import { ensurePolicyCrd } from '../helpers/crds.ts';
import { eventually } from '../helpers/eventually.ts';
import { createTestCa, writeServingFiles, type TestCa } from '../helpers/tls.ts';
import { diffPatch } from '../../webhook/src/admission/patch.ts';
import { mutate } from '../../webhook/src/inject/mutate.ts';
import { defaultInjectOptions } from '../../webhook/src/inject/settings.ts';
import { parseStatus } from '../../webhook/src/inject/status.ts';

const cluster = useTestCluster('webhook');
const suite = randomBytes(4).toString('hex');
const SUITE_LABEL = 'chaperone.dev/test-suite';
const WEBHOOK_NAME = 'inject.chaperone.dev';
const configName = `chaperone-test-${suite}`;
const optedIn = `wh-annot-${suite}`; // selected by the webhook; injection by pod annotation
const enabled = `wh-enabled-${suite}`; // selected, and labelled chaperone.dev/injection: enabled
const admissions = cluster.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const { core, apps } = cluster;
const FAKE_SECRET = `sk-test-${suite}-never-logged`;
const CONTROLLER_NAMESPACE = `chaperone-system-${suite}`;
const CONTROLLER_URL = `https://chaperone-controller.${CONTROLLER_NAMESPACE}.svc:443`;

let ca: TestCa;
let tlsDir: string;
let files: { certFile: string; keyFile: string };
let controller: RunningController;

const appContainer = (env: k8s.V1EnvVar[] = []): k8s.V1Container => ({
  name: 'app',
  image: 'registry.invalid/app:1',
  env,
});

function podBody(name: string, annotations: Record<string, string> = {}): k8s.V1Pod {
  return { metadata: { name, annotations }, spec: { containers: [appContainer()] } };
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await eventually(`ServiceAccount ${name}/default`, () =>
    core.readNamespacedServiceAccount({ name: 'default', namespace: name }),
  );
}

function readyz(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/readyz', ca: ca.caPem }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: ca.caPem, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** The apiserver's Status message of a refused call (the ApiException body is the Status JSON). */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof k8s.ApiException) {
      const status = JSON.parse(err.body as string) as { message: string };
      return { code: err.code, message: status.message };
    }
    throw err;
  }
  throw new Error('expected the apiserver to refuse the call');
}

const isInjected = (pod: k8s.V1Pod): boolean => pod.spec?.initContainers?.[0]?.name === 'chaperone-proxy';
const envOf = (container: k8s.V1Container | undefined): Record<string, string | undefined> =>
  Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
/** Waits for the controller to log an admission decision matching `fields` (logs arrive through a pipe). */
async function logged(fields: Record<string, unknown>): Promise<void> {
  await eventually(
    `an admission log line with ${JSON.stringify(fields)}`,
    async () =>
      Promise.resolve(
        controller.logs.some(
          (l) => l.msg === 'admission' && Object.entries(fields).every(([k, v]) => l[k] === v),
        )
          ? true
          : undefined,
      ),
    { timeoutMs: 5000 },
  );
}

beforeAll(async () => {
  // The controller's policy watch needs the CRD; readiness waits for it.
  await ensurePolicyCrd(cluster.kc);
  ca = await createTestCa();
  tlsDir = mkdtempSync(join(tmpdir(), 'chaperone-webhook-'));
  files = writeServingFiles(tlsDir, await ca.issueServing());
  controller = await startController({
    kubeconfig: process.env.CHAPERONE_TEST_KUBECONFIG!,
    ...files,
    args: ['--namespace', CONTROLLER_NAMESPACE, '--tls-poll-seconds', '1'],
  });
  await Promise.all([
    createNamespace(optedIn, { [SUITE_LABEL]: suite }),
    createNamespace(enabled, { [SUITE_LABEL]: suite, 'chaperone.dev/injection': 'enabled' }),
  ]);
  await admissions.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: configName },
      webhooks: [
        {
          name: WEBHOOK_NAME,
          admissionReviewVersions: ['v1'],
          clientConfig: {
            url: `https://127.0.0.1:${controller.port}/mutate`,
            caBundle: Buffer.from(ca.caPem).toString('base64'),
          },
          rules: [
            {
              operations: ['CREATE'],
              apiGroups: [''],
              apiVersions: ['v1'],
              resources: ['pods'],
              scope: 'Namespaced',
            },
            // Not what the chart registers: here so the handler proves it lets these through.
            {
              operations: ['UPDATE'],
              apiGroups: [''],
              apiVersions: ['v1'],
              resources: ['pods/ephemeralcontainers'],
              scope: 'Namespaced',
            },
          ],
          failurePolicy: 'Fail',
          matchPolicy: 'Equivalent',
          namespaceSelector: {
            matchExpressions: [
              { key: SUITE_LABEL, operator: 'In', values: [suite] },
              { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
            ],
          },
          reinvocationPolicy: 'IfNeeded',
          sideEffects: 'None',
          timeoutSeconds: 5,
        },
      ],
    },
  });
  // The apiserver picks the configuration up asynchronously: wait until a dry run is injected.
  await eventually('the webhook configuration to take effect', async () => {
    const pod = await core.createNamespacedPod({
      namespace: optedIn,
      dryRun: 'All',
      body: podBody('probe', { 'chaperone.dev/inject': 'true' }),
    });
    return isInjected(pod) ? pod : undefined;
  });
}, 60_000);

afterAll(async () => {
  await admissions.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
  await controller?.stop();
  await Promise.all([optedIn, enabled].map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
  rmSync(tlsDir, { recursive: true, force: true });
});

describe('the controller process', () => {
  it('becomes ready once its namespace cache has synced from the apiserver', async () => {
    await eventually('/readyz to answer 200', async () =>
      (await readyz(controller.port)) === 200 ? true : undefined,
    );
    expect(controller.logs.some((l) => l.msg === 'watch synced' && l.what === 'namespaces')).toBe(true);
  });
});

describe('injection through the real apiserver', () => {
  let injected: k8s.V1Pod;

  it("puts the native sidecar into an annotated Deployment's Pod", async () => {
    await apps.createNamespacedDeployment({
      namespace: optedIn,
      body: {
        metadata: { name: 'checkout' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'checkout' } },
          template: {
            metadata: {
              labels: { app: 'checkout' },
              annotations: { 'chaperone.dev/inject': 'true', 'chaperone.dev/providers': 'openai' },
            },
            spec: { containers: [appContainer([{ name: 'DB_PASSWORD', value: FAKE_SECRET }])] },
          },
        },
      },
    });
    injected = await eventually('a Pod of Deployment checkout', async () => {
      const pods = await core.listNamespacedPod({ namespace: optedIn, labelSelector: 'app=checkout' });
      return pods.items[0];
    });

    // The ReplicaSet created it with generateName: the webhook saw a pod without a name.
    expect(injected.metadata?.generateName).toMatch(/^checkout-/);
    const [sidecar, ...otherInit] = injected.spec?.initContainers ?? [];
    expect(otherInit).toEqual([]);
    expect(sidecar).toMatchObject({
      name: 'chaperone-proxy',
      restartPolicy: 'Always',
      startupProbe: { httpGet: { path: '/readyz', port: 'chaperone-admin' } },
      securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    });
    // Only its own token: the ServiceAccount plugin's API-token mount, added to the new container when
    // the apiserver re-ran the in-tree plugins, is reverted by the webhook's reinvocation.
    expect(sidecar?.volumeMounts).toEqual([
      { name: 'chaperone-token', mountPath: '/var/run/secrets/chaperone.dev/tokens', readOnly: true },
    ]);
    const tokenVolume = injected.spec?.volumes?.find((v) => v.name === 'chaperone-token');
    expect(tokenVolume?.projected?.sources?.[0]?.serviceAccountToken).toEqual({
      audience: 'chaperone.dev/controller',
      expirationSeconds: 3600,
      path: 'controller',
    });
    const app = injected.spec?.containers.find((c) => c.name === 'app');
    expect(app?.volumeMounts?.map((m) => m.name)).toEqual([expect.stringMatching(/^kube-api-access-/)]);
    expect(envOf(app)).toMatchObject({
      DB_PASSWORD: FAKE_SECRET,
      HTTPS_PROXY: 'http://127.0.0.1:15001',
      OPENAI_BASE_URL: 'http://127.0.0.1:15000/openai/v1',
      OPENAI_API_KEY: 'chaperone-managed-placeholder',
    });
    expect(parseStatus(injected.metadata?.annotations?.['chaperone.dev/status'])).toMatchObject({
      mode: 'native',
      containers: ['app'],
      providers: ['openai=openai'],
    });
    await logged({ namespace: optedIn, result: 'injected', reason: 'POD_OPTED_IN' });
  });

  it('stores exactly what mutate() produces: re-injecting the stored pod changes nothing', () => {
    // As the webhook would receive it on reinvocation: plain JSON, after the apiserver's defaulting.
    const stored = JSON.parse(JSON.stringify(injected)) as k8s.V1Pod;
    const again = mutate(stored, defaultInjectOptions({ controllerUrl: CONTROLLER_URL }));
    expect(diffPatch(stored, again)).toEqual([]);
  });

  it('leaves unannotated pods in a selected namespace untouched', async () => {
    const pod = await core.createNamespacedPod({ namespace: optedIn, body: podBody('plain') });
    expect(pod.spec?.initContainers).toBeUndefined();
    expect(pod.spec?.volumes?.some((v) => v.name === 'chaperone-token')).toBeFalsy();
    expect(pod.metadata?.annotations?.['chaperone.dev/status']).toBeUndefined();
    await logged({ pod: 'plain', result: 'skipped', reason: 'NOT_OPTED_IN' });
  });

  it('injects unannotated pods in a namespace labelled chaperone.dev/injection: enabled', async () => {
    const pod = await core.createNamespacedPod({ namespace: enabled, body: podBody('from-namespace') });
    expect(isInjected(pod)).toBe(true);
    await logged({ pod: 'from-namespace', result: 'injected', reason: 'NAMESPACE_OPTED_IN' });
  });

  it('wires the providers of the AIProviderPolicies that select the pod', async () => {
    await cluster.customObjects.createNamespacedCustomObject({
      group: 'chaperone.dev',
      version: 'v1alpha1',
      plural: 'aiproviderpolicies',
      namespace: enabled,
      body: {
        apiVersion: 'chaperone.dev/v1alpha1',
        kind: 'AIProviderPolicy',
        metadata: { name: 'llm' },
        spec: {
          podSelector: { matchLabels: { app: 'llm' } },
          providers: [
            {
              name: 'claude',
              type: 'anthropic',
              endpoint: 'https://api.anthropic.com',
              credentials: { secretRef: { name: 'k', key: 'k' } },
            },
          ],
        },
      },
    });
    // The controller learns of the policy through its watch; retry with fresh pods until it has.
    let attempt = 0;
    const pod = await eventually('a pod wired for the policy provider', async () => {
      const body = podBody(`llm-${attempt++}`);
      body.metadata!.labels = { app: 'llm' };
      const created = await core.createNamespacedPod({ namespace: enabled, body });
      const env = created.spec?.containers[0]?.env ?? [];
      return env.some((e) => e.name === 'ANTHROPIC_BASE_URL') ? created : undefined;
    });
    const env = Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:15000/claude');
    expect(env.ANTHROPIC_API_KEY).toBeDefined();
    // A pod the policy does not select gets no provider wiring.
    const unselected = await core.createNamespacedPod({ namespace: enabled, body: podBody('unselected') });
    expect(isInjected(unselected)).toBe(true);
    expect(unselected.spec?.containers[0]?.env?.some((e) => e.name === 'ANTHROPIC_BASE_URL')).toBe(false);
  });

  it('lets chaperone.dev/inject: "false" win over the namespace label', async () => {
    const pod = await core.createNamespacedPod({
      namespace: enabled,
      body: podBody('opted-out', { 'chaperone.dev/inject': 'false' }),
    });
    expect(pod.spec?.initContainers).toBeUndefined();
    await logged({ pod: 'opted-out', reason: 'POD_OPTED_OUT' });
  });

  it('refuses a pod with a bad override, naming the annotation', async () => {
    const { code, message } = await refusal(
      core.createNamespacedPod({
        namespace: optedIn,
        body: podBody('bad', { 'chaperone.dev/inject': 'true', 'chaperone.dev/proxy-memory-limit': 'lots' }),
      }),
    );
    expect(code).toBe(400);
    expect(message).toBe(
      `admission webhook "${WEBHOOK_NAME}" denied the request: chaperone: INVALID_OVERRIDE: ` +
        'chaperone.dev/proxy-memory-limit: "lots" is not a positive Kubernetes quantity (e.g. 100m, 1, 128Mi)',
    );
    await logged({ pod: 'bad', result: 'denied', reason: 'INVALID_OVERRIDE' });
  });

  it('honours dryRun: the injected pod is returned and nothing is stored', async () => {
    const pod = await core.createNamespacedPod({
      namespace: optedIn,
      dryRun: 'All',
      body: podBody('dry', { 'chaperone.dev/inject': 'true' }),
    });
    expect(isInjected(pod)).toBe(true);
    await expect(core.readNamespacedPod({ name: 'dry', namespace: optedIn })).rejects.toThrow(
      /HTTP-Code: 404/,
    );
    await logged({ pod: 'dry', dryRun: true, result: 'injected' });
  });

  it('lets pods/ephemeralcontainers updates of an injected pod through unchanged', async () => {
    const pod = await core.createNamespacedPod({
      namespace: optedIn,
      body: podBody('debuggable', { 'chaperone.dev/inject': 'true' }),
    });
    pod.spec!.ephemeralContainers = [
      { name: 'debugger', image: 'registry.invalid/busybox:1', command: ['sh'] },
    ];
    const updated = await core.replaceNamespacedPodEphemeralcontainers({
      name: 'debuggable',
      namespace: optedIn,
      body: pod,
    });
    expect(updated.spec?.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger']);
    expect(updated.spec?.ephemeralContainers?.[0]?.env).toBeUndefined();
    expect(isInjected(updated)).toBe(true);
    await logged({
      pod: 'debuggable',
      operation: 'UPDATE',
      result: 'skipped',
      reason: 'SUBRESOURCE',
    });
  });

  it('never logs the values of pod environment variables', () => {
    expect(JSON.stringify(controller.logs)).not.toContain(FAKE_SECRET);
  });
});

describe('certificate rotation and outage', () => {
  it('serves a certificate rotated while running, and the next admission succeeds', async () => {
    const before = await servedSerial(controller.port);
    const next = await ca.issueServing();
    writeServingFiles(tlsDir, next);
    await eventually('the rotated certificate to be served', async () =>
      (await servedSerial(controller.port)) === next.serial ? true : undefined,
    );
    expect(next.serial).not.toBe(before);
    expect(controller.logs.some((l) => l.msg === 'serving certificate reloaded')).toBe(true);

    const pod = await core.createNamespacedPod({
      namespace: optedIn,
      body: podBody('after-rotation', { 'chaperone.dev/inject': 'true' }),
    });
    expect(isInjected(pod)).toBe(true);
  });

  it('with the controller stopped, refuses pods in selected namespaces and leaves others alone', async () => {
    expect(await controller.stop()).toBe(0);
    expect(controller.logs.some((l) => l.msg === 'shutting down')).toBe(true);

    for (const namespace of [optedIn, enabled]) {
      const { code, message } = await refusal(
        core.createNamespacedPod({ namespace, body: podBody('while-down') }),
      );
      expect(code).toBe(500);
      expect(message).toMatch(
        new RegExp(`^Internal error occurred: failed calling webhook "${WEBHOOK_NAME}".*connection refused`),
      );
    }
    const elsewhere = await core.createNamespacedPod({
      namespace: cluster.namespace,
      body: podBody('unaffected'),
    });
    expect(elsewhere.metadata?.uid).toBeTruthy();
    expect(elsewhere.spec?.initContainers).toBeUndefined();
  });
});
