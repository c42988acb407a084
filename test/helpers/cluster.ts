// Per-suite access to the shared test cluster: a fresh namespace (deleted afterwards), ready to
// run pods in, and typed clients built from the cluster's admin kubeconfig.
import { afterAll, beforeAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { request, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { eventually } from './eventually.ts';

export interface TestCluster {
  kc: k8s.KubeConfig;
  namespace: string;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  authn: k8s.AuthenticationV1Api;
  apiextensions: k8s.ApiextensionsV1Api;
  customObjects: k8s.CustomObjectsApi;
  /** GET a raw apiserver path (e.g. /openid/v1/jwks) with the admin credentials. */
  getRaw(path: string): Promise<{ status: number; body: string }>;
}

export function loadKubeConfig(): k8s.KubeConfig {
  const file = process.env.CHAPERONE_TEST_KUBECONFIG;
  if (!file)
    throw new Error(
      'CHAPERONE_TEST_KUBECONFIG is not set: run integration tests through jest (global setup)',
    );
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/**
 * Call at the top of a `describe`: before the suite runs, creates namespace `<prefix>-<random>` and
 * waits until its "default" ServiceAccount exists (pods are refused before that); deletes it after.
 */
export function useTestCluster(prefix: string): TestCluster {
  const kc = loadKubeConfig();
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  const core = kc.makeApiClient(k8s.CoreV1Api);

  beforeAll(async () => {
    await core.createNamespace({
      body: { metadata: { name: namespace, labels: { 'chaperone.dev/test': prefix } } },
    });
    await eventually(`ServiceAccount ${namespace}/default`, async () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }),
    );
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace });
  });

  return {
    kc,
    namespace,
    core,
    apps: kc.makeApiClient(k8s.AppsV1Api),
    authn: kc.makeApiClient(k8s.AuthenticationV1Api),
    apiextensions: kc.makeApiClient(k8s.ApiextensionsV1Api),
    customObjects: kc.makeApiClient(k8s.CustomObjectsApi),
    getRaw: (path) => getRaw(kc, path),
  };
}

async function getRaw(kc: k8s.KubeConfig, path: string): Promise<{ status: number; body: string }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, cluster.server), options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The test cluster's PKI folder (CA, service-account signing key), next to its kubeconfig. */
export function clusterPkiDir(): string {
  const file = process.env.CHAPERONE_TEST_KUBECONFIG;
  if (!file) throw new Error('CHAPERONE_TEST_KUBECONFIG is not set');
  return join(dirname(file), 'pki');
}
