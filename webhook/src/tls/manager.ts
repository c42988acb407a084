// Renews the webhook's generated CA and serving certificate before they expire (the chart's TLS
// without cert-manager). One pass, at start-up and then periodically, on every replica:
//   1. read the TLS Secret and decide (rotation.ts);
//   2. to rotate: issue a new CA and a leaf for the same DNS names, add the new CA to the
//      MutatingWebhookConfiguration's caBundle FIRST (the apiserver trusts it before anyone serves
//      the new leaf), then replace the Secret guarded by its resourceVersion — a replica that loses
//      that race takes its CA back out;
//   3. otherwise make sure caBundle trusts every CA of the Secret's ca.crt.
// The kubelet then updates the mounted files and the HTTPS server reloads them (server/tls.ts).
// The previous CA stays in ca.crt and caBundle until it expires, so the old and new certificates
// are both trusted while replicas switch over.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { createCa, issueLeaf, toPem } from './pki.ts';
import {
  certificateDnsNames,
  decideRotation,
  nextCaBundle,
  removeFromBundle,
  webhookCaBundle,
  type RotationReason,
} from './rotation.ts';

const FIELD_MANAGER = 'chaperone-controller';
const RETRY_SECONDS = 60;

export interface CertificateManagerOptions {
  kc: k8s.KubeConfig;
  namespace: string;
  secretName: string;
  webhookConfigName: string;
  validityDays: number;
  renewBeforeDays: number;
  checkIntervalSeconds: number;
  /** Names for the new certificate when the current one cannot be read. */
  fallbackDnsNames: readonly string[];
  logger: Logger;
  now?: () => Date;
}

export type ReconcileResult =
  | { action: 'kept'; caBundleUpdated: boolean; renewAt: Date }
  | { action: 'rotated'; reason: RotationReason; caBundleUpdated: true; notAfter: Date }
  | { action: 'lost-race'; reason: RotationReason };

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string | undefined =>
  text === undefined ? undefined : Buffer.from(text, 'base64').toString('utf8');

function isConflict(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  // 409: resourceVersion moved; 422: a JSON-patch `test` failed (the object changed under us).
  return code === 409 || code === 422;
}

export class CertificateManager {
  private readonly options: CertificateManagerOptions;
  private readonly core: k8s.CoreV1Api;
  private readonly admissions: k8s.AdmissionregistrationV1Api;
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(options: CertificateManagerOptions) {
    this.options = options;
    this.core = options.kc.makeApiClient(k8s.CoreV1Api);
    this.admissions = options.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    this.now = options.now ?? ((): Date => new Date());
  }

  /** One pass. Throws when the apiserver cannot be read or written; the next pass retries. */
  async reconcile(): Promise<ReconcileResult> {
    const { namespace, secretName, renewBeforeDays } = this.options;
    const secret = await this.core.readNamespacedSecret({ name: secretName, namespace });
    const certPem = unb64(secret.data?.['tls.crt']);
    const caPem = unb64(secret.data?.['ca.crt']);
    const now = this.now();
    const decision = decideRotation({ certPem, caPem, now, renewBeforeDays });
    if (!decision.rotate) {
      const updated = await this.trust(caPem ?? '');
      return { action: 'kept', caBundleUpdated: updated, renewAt: decision.renewAt };
    }
    return this.rotate(secret, decision.reason, { certPem, caPem });
  }

  private async rotate(
    secret: k8s.V1Secret,
    reason: RotationReason,
    previous: { certPem: string | undefined; caPem: string | undefined },
  ): Promise<ReconcileResult> {
    const { namespace, secretName, validityDays, logger } = this.options;
    const now = this.now();
    const dnsNames = certificateDnsNames(previous.certPem);
    const names = dnsNames.length > 0 ? dnsNames : [...this.options.fallbackDnsNames];
    const ca = await createCa(`${names[0] ?? 'chaperone-controller'}-ca`, validityDays, now.getTime());
    const leaf = await issueLeaf(
      ca,
      { subject: `CN=${names[0] ?? 'chaperone-controller'}`, usage: 'server', dnsNames: names },
      validityDays,
      now.getTime(),
    );
    const caPem = ca.cert.toString('pem');
    const served = toPem(leaf);
    const bundle = nextCaBundle(caPem, previous, now);

    await this.trust(bundle);
    try {
      await this.core.replaceNamespacedSecret({
        name: secretName,
        namespace,
        fieldManager: FIELD_MANAGER,
        body: {
          ...secret,
          data: {
            ...secret.data,
            'tls.crt': b64(served.cert),
            'tls.key': b64(served.key),
            'ca.crt': b64(bundle),
          },
        },
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
      logger.info({ secret: secretName, reason }, 'another replica renewed the certificate first');
      const winner = await this.core.readNamespacedSecret({ name: secretName, namespace });
      await this.distrust(caPem, unb64(winner.data?.['ca.crt']) ?? '');
      return { action: 'lost-race', reason };
    }
    logger.info(
      { secret: secretName, reason, dnsNames: names, notAfter: leaf.cert.notAfter.toISOString() },
      'webhook certificate renewed: new CA added to caBundle, Secret updated',
    );
    return { action: 'rotated', reason, caBundleUpdated: true, notAfter: leaf.cert.notAfter };
  }

  /** Makes every webhook of the configuration trust `required`; true when caBundle was patched. */
  private async trust(required: string): Promise<boolean> {
    return this.patchBundles((current) => webhookCaBundle(current, required, this.now()));
  }

  /** Takes a CA this replica added but never published out of caBundle, converging on `required`. */
  private async distrust(caPem: string, required: string): Promise<boolean> {
    return this.patchBundles((current) => {
      const next = webhookCaBundle(removeFromBundle(current, caPem), required, this.now());
      return { pem: next.pem, changed: next.pem !== (current ?? '') };
    });
  }

  private async patchBundles(
    desired: (current: string | undefined) => { pem: string; changed: boolean },
  ): Promise<boolean> {
    const name = this.options.webhookConfigName;
    for (let attempt = 0; ; attempt++) {
      const config = await this.admissions.readMutatingWebhookConfiguration({ name });
      const operations: object[] = [
        { op: 'test', path: '/metadata/resourceVersion', value: config.metadata?.resourceVersion },
      ];
      (config.webhooks ?? []).forEach((webhook, index) => {
        const next = desired(unb64(webhook.clientConfig.caBundle));
        if (next.changed)
          operations.push({
            op: 'add',
            path: `/webhooks/${index}/clientConfig/caBundle`,
            value: b64(next.pem),
          });
      });
      if (operations.length === 1) return false;
      try {
        await this.admissions.patchMutatingWebhookConfiguration(
          { name, body: operations, fieldManager: FIELD_MANAGER },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
        );
        this.options.logger.info({ webhookConfig: name }, 'webhook caBundle updated');
        return true;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
      }
    }
  }

  /**
   * Reconciles now and every checkIntervalSeconds until stop(). A failed pass is logged and retried
   * within a minute (RBAC or the apiserver may not be ready yet at start-up).
   */
  start(): void {
    const { checkIntervalSeconds, logger, secretName } = this.options;
    const schedule = (seconds: number): void => {
      if (this.stopped) return;
      this.timer = setTimeout(tick, seconds * 1000);
      this.timer.unref();
    };
    const tick = (): void => {
      this.running = this.reconcile().then(
        (result) => {
          if (result.action === 'kept')
            logger.debug({ renewAt: result.renewAt.toISOString() }, 'webhook certificate valid');
          schedule(checkIntervalSeconds);
        },
        (err: unknown) => {
          logger.error(
            { err: (err as Error).message, secret: secretName },
            'webhook certificate check failed',
          );
          schedule(Math.min(checkIntervalSeconds, RETRY_SECONDS));
        },
      );
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
