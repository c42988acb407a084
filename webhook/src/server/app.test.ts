// The Express app over real HTTPS on loopback: status codes and reasons for bad requests, the
// admission path end to end, and what gets logged.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:https';
import { createTestCa } from '../../../test/helpers/tls.ts';
import type { AdmissionDeps } from '../admission/admit-pod.ts';
import { noPolicies, staticNamespaces } from '../admission/lookups.ts';
import type { AdmissionReview } from '../admission/review.ts';
import { defaultInjectOptions } from '../inject/settings.ts';
import { createLogger } from '../log.ts';
import { createApp } from './app.ts';
import { startHttpsServer, type HttpsHandle } from './https.ts';
import { validateTlsMaterial } from './tls.ts';

interface Reply {
  status: number;
  body: string;
}

const logs: Record<string, unknown>[] = [];
const logger = createLogger('info', {
  write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
});
let ready = false;
let failNamespaces = false;
const deps: AdmissionDeps = {
  namespaces: {
    labels: (ns) =>
      failNamespaces ? Promise.reject(new Error('apiserver unreachable')) : staticNamespaces({}).labels(ns),
  },
  policies: noPolicies,
  options: defaultInjectOptions(),
  controllerNamespace: 'chaperone-system',
};

let server: HttpsHandle;
let caPem: string;

beforeAll(async () => {
  const ca = await createTestCa();
  caPem = ca.caPem;
  const pem = await ca.issueServing();
  const app = createApp({ deps, logger, maxBodyBytes: 64 * 1024, isReady: () => ready });
  server = await startHttpsServer(app, validateTlsMaterial(pem.cert, pem.key), '127.0.0.1', 0);
});
afterAll(async () => {
  await server.close();
});

function send(method: string, path: string, body?: string | Buffer, contentType?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (contentType) headers['content-type'] = contentType;
    const req = request({ host: '127.0.0.1', port: server.port, method, path, ca: caPem, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function review(object: unknown, uid = 'uid-1'): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'apps',
      operation: 'CREATE',
      object,
    },
  });
}

const annotatedPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', annotations: { 'chaperone.dev/inject': 'true' } },
  spec: {
    containers: [{ name: 'app', image: 'app:1', env: [{ name: 'API_TOKEN', value: 'sk-do-not-log' }] }],
  },
};

describe('health endpoints', () => {
  it('/healthz answers 200 while the process serves', async () => {
    expect(await send('GET', '/healthz')).toEqual({ status: 200, body: 'ok' });
  });

  it('/readyz follows readiness', async () => {
    ready = false;
    expect((await send('GET', '/readyz')).status).toBe(503);
    ready = true;
    expect(await send('GET', '/readyz')).toEqual({ status: 200, body: 'ok' });
  });
});

describe('POST /mutate', () => {
  it('answers an AdmissionReview with the patch and logs the decision, not the pod', async () => {
    logs.length = 0;
    const reply = await send('POST', '/mutate', review(annotatedPod, 'uid-ok'), 'application/json');
    expect(reply.status).toBe(200);
    const answer = JSON.parse(reply.body) as AdmissionReview;
    expect(answer.apiVersion).toBe('admission.k8s.io/v1');
    expect(answer.kind).toBe('AdmissionReview');
    expect(answer.response).toMatchObject({ uid: 'uid-ok', allowed: true, patchType: 'JSONPatch' });
    const line = logs.find((l) => l.msg === 'admission');
    expect(line).toMatchObject({
      uid: 'uid-ok',
      namespace: 'apps',
      pod: 'p',
      operation: 'CREATE',
      dryRun: false,
      result: 'injected',
      reason: 'POD_OPTED_IN',
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(JSON.stringify(logs)).not.toContain('sk-do-not-log');
  });

  it('accepts a charset parameter on the content type', async () => {
    const reply = await send('POST', '/mutate', review(annotatedPod), 'application/json; charset=utf-8');
    expect(reply.status).toBe(200);
  });

  it('logs the generateName of a pod without a name', async () => {
    logs.length = 0;
    const pod = { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'app' }] } };
    await send('POST', '/mutate', review(pod), 'application/json');
    expect(logs.find((l) => l.msg === 'admission')).toMatchObject({ pod: 'web-*', reason: 'NOT_OPTED_IN' });
  });

  it.each([
    ['no content type', '{}', undefined, 'WRONG_CONTENT_TYPE'],
    ['text/plain', review(annotatedPod), 'text/plain', 'WRONG_CONTENT_TYPE'],
    ['a YAML body', 'apiVersion: admission.k8s.io/v1', 'application/yaml', 'WRONG_CONTENT_TYPE'],
    ['an empty body', '', 'application/json', 'EMPTY_BODY'],
    ['a blank body', '  \n', 'application/json', 'EMPTY_BODY'],
    ['malformed JSON', '{"apiVersion": ', 'application/json', 'MALFORMED_JSON'],
    ['JSON that is not a review', '{"kind":"Pod"}', 'application/json', 'NOT_AN_ADMISSION_REVIEW'],
    ['JSON null', 'null', 'application/json', 'NOT_AN_ADMISSION_REVIEW'],
  ])('refuses %s with 400 %s', async (_title, body, type, reason) => {
    const reply = await send('POST', '/mutate', body, type);
    expect(reply.status).toBe(400);
    const parsed = JSON.parse(reply.body) as { code: string; reason: string; message: string };
    expect(parsed.code).toBe('BAD_REQUEST');
    expect(parsed.reason).toBe(reason);
    expect(parsed.message.length).toBeGreaterThan(10);
  });

  it('refuses a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const big = review({ ...annotatedPod, metadata: { name: 'p', labels: { x: 'y'.repeat(70 * 1024) } } });
    const reply = await send('POST', '/mutate', big, 'application/json');
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers 500 with the code when the namespace cannot be read, so failurePolicy applies', async () => {
    failNamespaces = true;
    try {
      const reply = await send('POST', '/mutate', review(annotatedPod), 'application/json');
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'NAMESPACE_LOOKUP_FAILED' });
    } finally {
      failNamespaces = false;
    }
  });

  it('answers 405 to other methods and 404 elsewhere', async () => {
    expect((await send('GET', '/mutate')).status).toBe(405);
    expect((await send('GET', '/nope')).status).toBe(404);
  });
});
