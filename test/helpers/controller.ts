// Runs chaperone-controller from its sources as a real child process (as `node webhook/src/main.ts`
// would), waits for its "listening" log line and keeps every log line for assertions; and what the
// end-to-end suites set up around it: TLS from a test CA and the injection webhook registration.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';
import { startJsonProcess } from './json-process.ts';
import { createTestCa, writeServingFiles } from './tls.ts';

export interface RunningController {
  port: number;
  /** Parsed JSON log lines so far (stdout). */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** SIGTERM, then the exit code. Idempotent. */
  stop(): Promise<number | null>;
  readonly child: ChildProcess;
}

export interface ControllerArgs {
  kubeconfig: string;
  certFile: string;
  keyFile: string;
  /** Extra flags, e.g. ['--namespace', 'x']. */
  args?: string[];
  /** Port to listen on (default 0: a free one). */
  port?: number;
}

const MAIN = join(REPO_ROOT, 'webhook', 'src', 'main.ts');

export async function startController(
  options: ControllerArgs,
  timeoutMs = 20_000,
): Promise<RunningController> {
  const running = await startJsonProcess(
    'controller',
    MAIN,
    [
      '--kubeconfig',
      options.kubeconfig,
      '--tls-cert',
      options.certFile,
      '--tls-key',
      options.keyFile,
      '--listen',
      `127.0.0.1:${options.port ?? 0}`,
      ...(options.args ?? []),
    ],
    (line) => (line.msg === 'listening' ? (line.port as number) : undefined),
    timeoutMs,
  );
  return { ...running, port: running.ready };
}

/** What a suite needs to run the controller on TLS from a fresh test CA, and to trust it. */
export interface ControllerTls {
  certFile: string;
  keyFile: string;
  /** The CA, as PEM and as a file (for the sidecar's --controller-ca). */
  caPem: string;
  caFile: string;
}

/** Issues the controller's serving certificate from a fresh test CA into `dir`. */
export async function controllerTls(dir: string): Promise<ControllerTls> {
  const ca = await createTestCa();
  const files = writeServingFiles(join(dir, 'tls'), await ca.issueServing());
  const caFile = join(dir, 'controller-ca.pem');
  writeFileSync(caFile, ca.caPem);
  return { ...files, caPem: ca.caPem, caFile };
}

/** The controller as the end-to-end suites run it: its own Lease namespace, no leader election. */
export function startSuiteController(
  tls: ControllerTls,
  namespace: string,
  port = 0,
): Promise<RunningController> {
  return startController({
    kubeconfig: process.env.CHAPERONE_TEST_KUBECONFIG!,
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    port,
    args: ['--namespace', `${namespace}-controller`, '--leader-elect', 'false'],
  });
}

/** Registers the controller's /mutate for pod CREATE in the namespaces `namespaceLabels` select. */
export async function registerInjectionWebhook(
  kc: k8s.KubeConfig,
  options: { name: string; port: number; caPem: string; namespaceLabels: Record<string, string> },
): Promise<void> {
  await kc.makeApiClient(k8s.AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
    body: {
      metadata: { name: options.name },
      webhooks: [
        {
          name: 'inject.chaperone.dev',
          admissionReviewVersions: ['v1'],
          clientConfig: {
            url: `https://127.0.0.1:${options.port}/mutate`,
            caBundle: Buffer.from(options.caPem).toString('base64'),
          },
          rules: [
            {
              operations: ['CREATE'],
              apiGroups: [''],
              apiVersions: ['v1'],
              resources: ['pods'],
              scope: 'Namespaced',
            },
          ],
          namespaceSelector: { matchLabels: options.namespaceLabels },
          failurePolicy: 'Fail',
          sideEffects: 'None',
          reinvocationPolicy: 'IfNeeded',
          timeoutSeconds: 5,
        },
      ],
    },
  });
}

/** Removes what registerInjectionWebhook registered; nothing to remove is fine. */
export async function unregisterInjectionWebhook(kc: k8s.KubeConfig, name: string): Promise<void> {
  await kc
    .makeApiClient(k8s.AdmissionregistrationV1Api)
    .deleteMutatingWebhookConfiguration({ name })
    .catch(() => undefined);
}
