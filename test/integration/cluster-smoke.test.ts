// The local control plane has every capability Chaperone relies on: CRDs and custom resources,
// controllers that turn Deployments into Pods, TokenRequest with bound pod claims verifiable
// offline against the issuer's JWKS, and TokenReview that follows the bound Pod's lifetime.
import { describe, expect, it, afterAll } from '@jest/globals';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { V1Pod } from '@kubernetes/client-node';
import { useTestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';

const cluster = useTestCluster('smoke');
const { namespace } = cluster;

describe('custom resources', () => {
  const group = `smoke-${namespace}.chaperone.dev`;
  const crdName = `widgets.${group}`;
  afterAll(async () => {
    await cluster.apiextensions.deleteCustomResourceDefinition({ name: crdName });
  });

  it('applies a CRD, waits until it is established, and stores a custom resource', async () => {
    await cluster.apiextensions.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await eventually('CRD Established', async () => {
      const crd = await cluster.apiextensions.readCustomResourceDefinition({ name: crdName });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? crd
        : undefined;
    });

    const created = (await eventually('custom resource created', () =>
      cluster.customObjects.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
      }),
    )) as { metadata: { uid: string } };
    const read = (await cluster.customObjects.getNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural: 'widgets',
      name: 'w1',
    })) as { metadata: { uid: string }; spec: { size: number } };
    expect(read.spec.size).toBe(3);
    expect(read.metadata.uid).toBe(created.metadata.uid);

    // The schema is enforced: the apiserver (not a mock) rejects a value below the minimum.
    await expect(
      cluster.customObjects.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 0 } },
      }),
    ).rejects.toThrow(/spec.size.*should be greater than or equal to 1/);
  });
});

describe('workloads and identity', () => {
  let pod: V1Pod;

  it('turns a Deployment into a ReplicaSet and a Pending Pod (no kubelet runs)', async () => {
    await cluster.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
          },
        },
      },
    });
    pod = await eventually('a Pod of Deployment web', async () => {
      const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: 'app=web' });
      return pods.items[0];
    });
    expect(pod.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.serviceAccountName).toBe('default');
  });

  it('issues a pod-bound token with a custom audience that verifies offline against the JWKS', async () => {
    const audience = 'chaperone.dev/smoke-test';
    const { status } = await cluster.core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace,
      body: {
        spec: {
          audiences: [audience],
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
    const token = status?.token ?? '';
    expect(token.split('.')).toHaveLength(3);

    const discovery = await cluster.getRaw('/.well-known/openid-configuration');
    expect(discovery.status).toBe(200);
    const { issuer, jwks_uri } = JSON.parse(discovery.body) as { issuer: string; jwks_uri: string };
    const jwksReply = await cluster.getRaw(new URL(jwks_uri).pathname);
    expect(jwksReply.status).toBe(200);
    const jwks = createLocalJWKSet(JSON.parse(jwksReply.body) as JSONWebKeySet);

    const { payload } = await jwtVerify(token, jwks, { issuer, audience });
    expect(payload.sub).toBe(`system:serviceaccount:${namespace}:default`);
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload['kubernetes.io']).toMatchObject({
      namespace,
      pod: { name: pod.metadata!.name, uid: pod.metadata!.uid },
      serviceaccount: { name: 'default' },
    });

    // The same token does not verify for another audience, nor against another issuer.
    await expect(jwtVerify(token, jwks, { issuer, audience: 'someone-else' })).rejects.toThrow(/aud/);
    await expect(jwtVerify(token, jwks, { issuer: 'https://other.example', audience })).rejects.toThrow(
      /iss/,
    );

    const review = await cluster.authn.createTokenReview({
      body: { spec: { token, audiences: [audience] } },
    });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:default`);
    expect(review.status?.user?.extra?.['authentication.kubernetes.io/pod-uid']).toEqual([pod.metadata!.uid]);

    // Once the bound Pod is gone (the ReplicaSet replaces it with a new uid), the apiserver no
    // longer accepts the token.
    await cluster.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace, gracePeriodSeconds: 0 });
    const after = await eventually('TokenReview to fail after pod deletion', async () => {
      const r = await cluster.authn.createTokenReview({ body: { spec: { token, audiences: [audience] } } });
      return r.status?.authenticated ? undefined : r;
    });
    expect(after.status?.authenticated).toBeFalsy();
    expect(after.status?.error).toMatch(/token has been invalidated/);
  });
});
