import { describe, expect, it } from '@jest/globals';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { V1Pod } from '@kubernetes/client-node';
import { ChaperoneError, ERROR_CODES } from '../errors.ts';
import { defaultInjectOptions } from '../inject/settings.ts';
import type { AdmissionDeps } from './admit-pod.ts';
import { handleAdmissionRequest } from './handle.ts';
import { noPolicies, staticNamespaces, staticPolicies } from './lookups.ts';
import type { AdmissionRequest } from './review.ts';

const deps: AdmissionDeps = {
  namespaces: staticNamespaces({ enabled: { 'chaperone.dev/injection': 'enabled' } }),
  policies: noPolicies,
  options: defaultInjectOptions(),
  controllerNamespace: 'chaperone-system',
};

const annotated: V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', annotations: { 'chaperone.dev/inject': 'true' } },
  spec: { containers: [{ name: 'app', image: 'app:1' }] },
};

function request(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    uid: 'uid-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'apps',
    operation: 'CREATE',
    object: structuredClone(annotated),
    ...overrides,
  };
}

function decodePatch(patch: string | undefined): Operation[] {
  return JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8')) as Operation[];
}

describe('handleAdmissionRequest: allowed unchanged', () => {
  it.each([
    ['a Deployment', request({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), 'NOT_A_POD'],
    ['a ConfigMap', request({ kind: { group: '', version: 'v1', kind: 'ConfigMap' } }), 'NOT_A_POD'],
    [
      'pods/ephemeralcontainers',
      request({ operation: 'UPDATE', subResource: 'ephemeralcontainers' }),
      'SUBRESOURCE',
    ],
    ['pods/status', request({ operation: 'UPDATE', subResource: 'status' }), 'SUBRESOURCE'],
    ['a Pod UPDATE', request({ operation: 'UPDATE' }), 'NOT_CREATE'],
    ['a Pod DELETE', request({ operation: 'DELETE', object: undefined }), 'NOT_CREATE'],
    [
      'an unannotated pod',
      request({ object: { metadata: { name: 'x' }, spec: { containers: [] } } }),
      'NOT_OPTED_IN',
    ],
    ['kube-system', request({ namespace: 'kube-system' }), 'KUBE_SYSTEM_NAMESPACE'],
  ])('%s → %s', async (_title, req, reason) => {
    const { response, decision } = await handleAdmissionRequest(req, deps);
    expect(response).toEqual({
      uid: 'uid-1',
      allowed: true,
      auditAnnotations: { decision: `skipped/${reason}` },
    });
    expect(decision).toEqual({ result: 'skipped', reason, patchOperations: 0, warnings: [] });
  });
});

describe('handleAdmissionRequest: injection', () => {
  it('returns a JSON patch that turns the pod into the injected pod', async () => {
    const { response, decision } = await handleAdmissionRequest(request(), deps);
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    expect(response.auditAnnotations).toEqual({ decision: 'injected/POD_OPTED_IN' });
    const patched = jsonpatch.applyPatch(structuredClone(annotated), decodePatch(response.patch)).newDocument;
    expect(patched.spec?.initContainers?.[0]?.name).toBe('chaperone-proxy');
    expect(patched.metadata?.annotations?.['chaperone.dev/status']).toMatch(/"hash":"[0-9a-f]{16}"/);
    expect(decision.result).toBe('injected');
    expect(decision.patchOperations).toBe(decodePatch(response.patch).length);
  });

  it('answers a dryRun request exactly like a real one (no side effects to skip)', async () => {
    const real = await handleAdmissionRequest(request(), deps);
    const dry = await handleAdmissionRequest(request({ dryRun: true }), deps);
    expect(dry.response).toEqual(real.response);
  });

  it('handles a generateName pod whose object carries no namespace', async () => {
    const pod: V1Pod = { metadata: { generateName: 'job-' }, spec: { containers: [{ name: 'job' }] } };
    const { decision } = await handleAdmissionRequest(
      request({ namespace: 'enabled', name: '', object: pod }),
      deps,
    );
    expect(decision).toMatchObject({ result: 'injected', reason: 'NAMESPACE_OPTED_IN' });
  });

  it('allows an already injected pod without a patch', async () => {
    const first = await handleAdmissionRequest(request(), deps);
    const injected = jsonpatch.applyPatch(
      structuredClone(annotated),
      decodePatch(first.response.patch),
    ).newDocument;
    const { response, decision } = await handleAdmissionRequest(request({ object: injected }), deps);
    expect(response.patch).toBeUndefined();
    expect(response.patchType).toBeUndefined();
    expect(decision).toEqual({
      result: 'already-injected',
      reason: 'POD_OPTED_IN',
      patchOperations: 0,
      warnings: [],
    });
  });

  it('passes providers from the PolicyLookup into the pod environment', async () => {
    const withPolicies = {
      ...deps,
      policies: staticPolicies({ apps: [{ name: 'claude', type: 'anthropic' }] }),
    };
    const { response } = await handleAdmissionRequest(request(), withPolicies);
    const patched = jsonpatch.applyPatch(structuredClone(annotated), decodePatch(response.patch)).newDocument;
    expect(patched.spec?.containers[0]?.env).toContainEqual({
      name: 'ANTHROPIC_BASE_URL',
      value: 'http://127.0.0.1:15000/claude',
    });
  });

  it('returns warnings prefixed with chaperone', async () => {
    const pod = structuredClone(annotated);
    pod.spec!.containers[0]!.env = [{ name: 'HTTPS_PROXY', value: 'http://corp:3128' }];
    const { response } = await handleAdmissionRequest(request({ object: pod }), deps);
    expect(response.warnings).toEqual([
      'chaperone: container "app" sets HTTPS_PROXY itself; Chaperone left it as is',
    ]);
  });
});

describe('handleAdmissionRequest: refusals', () => {
  it('denies a bad override with code, annotation and a 400 status', async () => {
    const pod = structuredClone(annotated);
    pod.metadata!.annotations!['chaperone.dev/proxy-cpu-limit'] = 'lots';
    const { response, decision } = await handleAdmissionRequest(request({ object: pod }), deps);
    expect(response).toEqual({
      uid: 'uid-1',
      allowed: false,
      status: {
        code: 400,
        reason: 'BadRequest',
        message:
          'chaperone: INVALID_OVERRIDE: chaperone.dev/proxy-cpu-limit: "lots" is not a positive Kubernetes quantity (e.g. 100m, 1, 128Mi)',
      },
      auditAnnotations: { decision: 'denied/INVALID_OVERRIDE' },
    });
    expect(decision).toMatchObject({ result: 'denied', reason: 'INVALID_OVERRIDE' });
  });

  it('denies a port conflict with PORT_CONFLICT', async () => {
    const pod = structuredClone(annotated);
    pod.spec!.containers.push({ name: 'istio-proxy' });
    const { response } = await handleAdmissionRequest(request({ object: pod }), deps);
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toMatch(/^chaperone: PORT_CONFLICT: container "istio-proxy"/);
  });

  it.each([
    [
      'namespace',
      { ...deps, namespaces: { labels: () => Promise.reject(new Error('apiserver down')) } },
      'NAMESPACE_LOOKUP_FAILED',
    ],
    [
      'policy',
      { ...deps, policies: { providersFor: () => Promise.reject(new Error('no cache')) } },
      'POLICY_LOOKUP_FAILED',
    ],
  ])('rejects with %s lookup failure so that failurePolicy decides', async (_what, failing, code) => {
    const err = await handleAdmissionRequest(request(), failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChaperoneError);
    expect((err as ChaperoneError).code).toBe(code);
    expect(Object.values(ERROR_CODES)).toContain(code);
  });
});
