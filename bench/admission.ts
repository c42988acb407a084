// Server-side admission latency of chaperone-controller's /mutate: the real Express app over HTTPS
// on loopback, one request at a time over a kept-alive connection (as the apiserver sends them),
// for a typical pod and for a pod whose spec is 64 KiB. "server" is request arrival to response
// finished inside the server (body read, JSON parse, decision, mutate, diff, serialise, log line);
// "round trip" adds the client and TLS framing. Bounded request counts; prints figures, asserts nothing.
//
//   node bench/admission.ts            (or: make bench-admission)
//   BENCH_REQUESTS=5000 node bench/admission.ts
import { Agent, request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cpus } from 'node:os';
import { pino } from 'pino';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { createTestCa } from '../test/helpers/tls.ts';
import { noPolicies, staticNamespaces } from '../webhook/src/admission/lookups.ts';
import type { AdmissionReview } from '../webhook/src/admission/review.ts';
import { defaultInjectOptions } from '../webhook/src/inject/settings.ts';
import { createLogger } from '../webhook/src/log.ts';
import { createApp } from '../webhook/src/server/app.ts';
import { startHttpsServer } from '../webhook/src/server/https.ts';
import { validateTlsMaterial } from '../webhook/src/server/tls.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const WARMUP = Math.min(300, REQUESTS);
const TARGET_BYTES = 64 * 1024;

/** A pod as a ReplicaSet creates it from an annotated template (after the ServiceAccount plugin). */
function typicalPod(): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'checkout-7d4b9c8f6-',
      namespace: 'payments',
      labels: { app: 'checkout', 'pod-template-hash': '7d4b9c8f6' },
      annotations: { 'chaperone.dev/inject': 'true', 'chaperone.dev/providers': 'openai, claude=anthropic' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-7d4b9c8f6', uid: 'u', controller: true },
      ],
    },
    spec: {
      serviceAccountName: 'checkout',
      containers: [
        {
          name: 'app',
          image: 'registry.invalid/checkout:2.3.1',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
          volumeMounts: [
            {
              name: 'kube-api-access-x7k2p',
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
              readOnly: true,
            },
          ],
        },
      ],
      volumes: [
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            ],
          },
        },
      ],
    },
  };
}

/** The typical pod grown to TARGET_BYTES of JSON: eight containers with long environments. */
function largePod(): V1Pod {
  const pod = typicalPod();
  const template = pod.spec!.containers[0]!;
  const containers: V1Container[] = Array.from({ length: 8 }, (_, i) => ({
    ...structuredClone(template),
    name: `worker-${i}`,
    env: [...(template.env ?? [])],
  }));
  pod.spec!.containers = containers;
  let n = 0;
  while (JSON.stringify(pod).length < TARGET_BYTES) {
    containers[n % containers.length]!.env!.push({
      name: `FEATURE_FLAG_${n}`,
      value: `enabled-for-tenant-${n}-${'x'.repeat(24)}`,
    });
    n += 1;
  }
  return pod;
}

function reviewBody(pod: V1Pod, i: number): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `bench-${i}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'payments',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: pod,
      dryRun: false,
    },
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

interface Figures {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

function figures(samples: readonly number[]): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

async function main(): Promise<void> {
  const ca = await createTestCa('chaperone-bench-ca');
  const pem = await ca.issueServing();
  const serverSide: number[] = [];
  let recording = false;
  const app = createApp({
    deps: {
      namespaces: staticNamespaces({ payments: {} }),
      policies: noPolicies,
      options: defaultInjectOptions(),
      controllerNamespace: 'chaperone-system',
    },
    // The real logger and its one line per admission, written to /dev/null.
    logger: createLogger('info', pino.destination({ dest: '/dev/null', sync: false })),
  });
  const timed = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (recording) serverSide.push(Number(process.hrtime.bigint() - started) / 1e6);
    });
    app(req, res);
  };
  const server = await startHttpsServer(timed, validateTlsMaterial(pem.cert, pem.key), '127.0.0.1', 0);
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.caPem });

  const post = (body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/mutate',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const rows: string[] = [];
  for (const [label, pod] of [
    ['typical pod', typicalPod()],
    ['64 KiB pod spec', largePod()],
  ] as const) {
    const bodies = Array.from({ length: 50 }, (_, i) => reviewBody(pod, i));
    const check = await post(bodies[0]!);
    const answer = JSON.parse(check.text) as AdmissionReview;
    if (check.status !== 200 || !answer.response?.allowed || !answer.response.patch) {
      throw new Error(`unexpected answer for ${label}: ${check.status} ${check.text.slice(0, 300)}`);
    }
    const patchOps = (JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as unknown[])
      .length;

    for (let i = 0; i < WARMUP; i += 1) await post(bodies[i % bodies.length]!);
    serverSide.length = 0;
    const roundTrip: number[] = [];
    recording = true;
    for (let i = 0; i < REQUESTS; i += 1) {
      const started = process.hrtime.bigint();
      await post(bodies[i % bodies.length]!);
      roundTrip.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    recording = false;
    const s = figures(serverSide);
    const r = figures(roundTrip);
    const fmt = (n: number): string => n.toFixed(3).padStart(8);
    rows.push(
      `${label.padEnd(16)} ${String(JSON.stringify(pod).length).padStart(7)} B ${String(bodies[0]!.length).padStart(7)} B ${String(patchOps).padStart(4)}  ` +
        `server p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} max ${fmt(s.max)}  round trip p50 ${fmt(r.p50)} p99 ${fmt(r.p99)}  (ms, n=${serverSide.length})`,
    );
  }
  agent.destroy();
  await server.close();

  console.log(
    `chaperone-controller /mutate latency — Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, ` +
      `${REQUESTS} requests per case after ${WARMUP} warm-up, one at a time over one TLS connection`,
  );
  console.log(`${'case'.padEnd(16)} ${'pod'.padStart(9)} ${'review'.padStart(9)} ${'ops'.padStart(4)}`);
  for (const row of rows) console.log(row);
  console.log('targets: server p99 ≤ 5 ms (typical pod), ≤ 50 ms (64 KiB pod spec)');
}

await main();
