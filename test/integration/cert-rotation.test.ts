// Renewal of the webhook's generated certificate (webhook/src/tls/manager.ts) against the real
// apiserver: a TLS Secret in the suite's namespace and a MutatingWebhookConfiguration that can
// never be called (failurePolicy Ignore, a namespaceSelector no namespace matches), so nothing
// else sharing the cluster is affected.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { useTestCluster } from '../helpers/cluster.ts';
import { startController } from '../helpers/controller.ts';
import { eventually } from '../helpers/eventually.ts';
import { createTestCa, writeServingFiles } from '../helpers/tls.ts';
import { createLogger } from '../../webhook/src/log.ts';
import { CertificateManager, type ReconcileResult } from '../../webhook/src/tls/manager.ts';
import { createCa, issueLeaf, toPem } from '../../webhook/src/tls/pki.ts';
import { parseCertificates } from '../../webhook/src/tls/rotation.ts';

const cluster = useTestCluster('certs');
const { namespace, core } = cluster;
const admissions = cluster.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const SECRET = 'chaperone-controller-tls';
const CONFIG = `chaperone-certs-${namespace}`;
const DNS_NAMES = [
  'chaperone-controller',
  `chaperone-controller.${namespace}`,
  `chaperone-controller.${namespace}.svc`,
];
const DAY = 24 * 60 * 60 * 1000;
const logger = createLogger('silent');

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');
const fingerprints = (pem: string): string[] => parseCertificates(pem).map((c) => c.fingerprint256);

/** What the chart would have written: a CA and a leaf for the Service, `daysLeft` from expiry. */
async function installedPair(daysLeft: number): Promise<{ ca: string; cert: string; key: string }> {
  const issuedAt = Date.now() - (365 - daysLeft) * DAY;
  const ca = await createCa('chaperone-webhook-ca', 365, issuedAt);
  const leaf = toPem(
    await issueLeaf(
      ca,
      { subject: 'CN=chaperone-controller', usage: 'server', dnsNames: DNS_NAMES },
      365,
      issuedAt,
    ),
  );
  return { ca: ca.cert.toString('pem'), ...leaf };
}

async function writeSecret(pair: { ca: string; cert: string; key: string }): Promise<void> {
  const body: k8s.V1Secret = {
    metadata: { name: SECRET, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(pair.cert), 'tls.key': b64(pair.key), 'ca.crt': b64(pair.ca) },
  };
  await core.deleteNamespacedSecret({ name: SECRET, namespace }).catch(() => undefined);
  await core.createNamespacedSecret({ namespace, body });
}

async function setCaBundle(pem: string): Promise<void> {
  await admissions.patchMutatingWebhookConfiguration(
    { name: CONFIG, body: [{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: b64(pem) }] },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
}

async function state(): Promise<{
  cert: string;
  key: string;
  ca: string;
  caBundle: string;
  secretVersion: string;
}> {
  const secret = await core.readNamespacedSecret({ name: SECRET, namespace });
  const config = await admissions.readMutatingWebhookConfiguration({ name: CONFIG });
  return {
    cert: unb64(secret.data?.['tls.crt']),
    key: unb64(secret.data?.['tls.key']),
    ca: unb64(secret.data?.['ca.crt']),
    caBundle: unb64(config.webhooks?.[0]?.clientConfig.caBundle),
    secretVersion: secret.metadata?.resourceVersion ?? '',
  };
}

function manager(renewBeforeDays = 30): CertificateManager {
  return new CertificateManager({
    kc: cluster.kc,
    namespace,
    secretName: SECRET,
    webhookConfigName: CONFIG,
    validityDays: 365,
    renewBeforeDays,
    checkIntervalSeconds: 3600,
    fallbackDnsNames: ['unused.example'],
    logger,
  });
}

let installed: { ca: string; cert: string; key: string };

beforeAll(async () => {
  await admissions.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: CONFIG },
      webhooks: [
        {
          name: 'inject.chaperone.dev',
          admissionReviewVersions: ['v1'],
          clientConfig: { url: 'https://127.0.0.1:1/mutate' },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          namespaceSelector: { matchLabels: { 'chaperone.dev/test-never': CONFIG } },
        },
      ],
    },
  });
});
afterAll(async () => {
  await admissions.deleteMutatingWebhookConfiguration({ name: CONFIG });
});
beforeEach(async () => {
  installed = await installedPair(20);
  await writeSecret(installed);
  await setCaBundle(installed.ca);
});

describe('CertificateManager on the real apiserver', () => {
  it('renews a certificate 20 days from expiry: new CA into caBundle, Secret replaced, old CA kept', async () => {
    const result = await manager(30).reconcile();
    expect(result).toMatchObject({ action: 'rotated', reason: 'EXPIRING' });

    const after = await state();
    const leaf = new X509Certificate(after.cert);
    const [newCa, ...rest] = parseCertificates(after.ca);
    expect(rest.map((c) => c.fingerprint256)).toEqual(fingerprints(installed.ca));
    expect(leaf.checkIssued(newCa!) && leaf.verify(newCa!.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe(DNS_NAMES.map((n) => `DNS:${n}`).join(', '));
    expect(leaf.validToDate.getTime()).toBeGreaterThan(Date.now() + 364 * DAY);
    expect(leaf.checkPrivateKey(createPrivateKey(after.key))).toBe(true);
    // The webhook trusts both: the old certificate may still be served until the files reload.
    // Byte for byte what the chart renders from the Secret: a later `helm upgrade` changes nothing.
    expect(after.caBundle).toBe(after.ca);
    expect(fingerprints(after.caBundle)).toHaveLength(2);

    // A second pass finds nothing to do and writes nothing.
    const config = await admissions.readMutatingWebhookConfiguration({ name: CONFIG });
    expect(await manager(30).reconcile()).toMatchObject({ action: 'kept', caBundleUpdated: false });
    const again = await admissions.readMutatingWebhookConfiguration({ name: CONFIG });
    expect(again.metadata?.resourceVersion).toBe(config.metadata?.resourceVersion);
    expect((await state()).secretVersion).toBe(after.secretVersion);
  });

  it('keeps a certificate with more time left, and puts a missing CA back into caBundle', async () => {
    const other = await installedPair(300);
    await setCaBundle(other.ca); // e.g. the configuration was re-created with another CA
    const result = await manager(10).reconcile();
    expect(result).toMatchObject({ action: 'kept', caBundleUpdated: true });
    const after = await state();
    expect(after.cert).toBe(installed.cert);
    expect(fingerprints(after.caBundle)).toEqual([...fingerprints(installed.ca), ...fingerprints(other.ca)]);
  });

  it('lets exactly one of two racing replicas renew, and leaves caBundle trusting what the Secret holds', async () => {
    const results: ReconcileResult[] = await Promise.all([manager(30).reconcile(), manager(30).reconcile()]);
    expect(results.filter((r) => r.action === 'rotated')).toHaveLength(1);
    const after = await state();
    const trusted = new Set(fingerprints(after.caBundle));
    for (const ca of fingerprints(after.ca)) expect(trusted.has(ca)).toBe(true);
    // A loser took its own CA back out: nothing but the Secret's CAs is left.
    expect(trusted.size).toBe(fingerprints(after.ca).length);
    expect(after.caBundle).toBe(after.ca);
  });

  it('is wired into chaperone-controller: --manage-certificates renews at start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chaperone-certs-'));
    const serving = writeServingFiles(dir, await (await createTestCa()).issueServing());
    const controller = await startController({
      kubeconfig: process.env.CHAPERONE_TEST_KUBECONFIG!,
      ...serving,
      args: [
        '--namespace',
        namespace,
        '--leader-elect',
        'false',
        '--manage-certificates',
        SECRET,
        '--webhook-config',
        CONFIG,
      ],
    });
    try {
      await eventually('the controller to renew the certificate', async () => {
        const after = await state();
        return after.cert !== installed.cert ? after : undefined;
      });
      const after = await state();
      expect(fingerprints(after.ca).slice(1)).toEqual(fingerprints(installed.ca));
      expect(controller.logs.some((l) => l.reason === 'EXPIRING' && l.secret === SECRET)).toBe(true);
    } finally {
      await controller.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
