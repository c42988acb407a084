// Wires the policy control plane: watches AIProviderPolicies and Pods, verifies sidecars, streams
// each connected sidecar the bundle for its pod, pushes changes (kill switches included) at once,
// and writes status (observedGeneration, Ready, providers, enforcement) while this replica leads.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { Response, Router } from 'express';
import { GROUP, POLICY, VERSION } from '../../../api/src/names.ts';
import type { BundlePolicy, PolicyBundle, SidecarReport } from '../../../api/src/bundle.ts';
import type { PolicyLookup } from '../admission/lookups.ts';
import { restartingInformer, type Watched } from '../kube/informer.ts';
import type { Logger } from '../log.ts';
import { buildBundle, referencedSecrets, selectPolicies, type PodRef } from './bundle.ts';
import { SidecarHub, type Enforcement } from './hub.ts';
import { getJson } from './kube-raw.ts';
import { PolicyStore, type PolicyObject } from './policies.ts';
import { ControlRefusal } from './refusals.ts';
import { controlRoutes } from './routes.ts';
import { SecretCache } from './secrets.ts';
import { EventRecorder } from './events.ts';
import { guardFindingEvent, killSwitchEvents } from './events.ts';
import { policyFindings } from './findings.ts';
import { carryTransitionTimes, desiredStatus, sameStatus, type PolicyStatusBody } from './status.ts';
import { refreshingJwks, tokenVerifier, type SidecarIdentity } from './tokens.ts';
import { tokenAudiencesOf } from '../../../api/src/policy/provider.ts';

/** Several replicas: who writes status, and enforcement summed over every replica's sidecars. */
export interface Coordination {
  isLeader(): boolean;
  publish(local: ReadonlyMap<string, Enforcement>): void;
  collect(): Promise<Map<string, Enforcement>>;
}

export interface ControlPlaneOptions {
  kc: k8s.KubeConfig;
  logger: Logger;
  /** Leader election and cross-replica counts; without it this replica alone writes status. */
  coordination?: Coordination;
  secretTtlMs?: number;
  statusDelayMs?: number;
  /** This replica's name on Events. */
  identity?: string;
}

type AnyPolicy = k8s.KubernetesObject & PolicyObject;

export class ControlPlane {
  readonly hub: SidecarHub;
  readonly store = new PolicyStore();
  readonly router: Router;
  private readonly kc: k8s.KubeConfig;
  private readonly logger: Logger;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly secrets: SecretCache;
  private readonly coordination?: Coordination;
  private readonly statusDelayMs: number;
  private readonly written = new Map<string, PolicyStatusBody>();
  private readonly events: EventRecorder;
  private policies?: Watched<AnyPolicy>;
  private pods?: Watched<k8s.V1Pod>;
  private verify?: (token: string | undefined) => Promise<SidecarIdentity>;
  private readonly verified = new Map<string, SidecarIdentity>();
  private markStarted: () => void = () => {};
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  private statusTimer?: NodeJS.Timeout;
  private secretTimer?: NodeJS.Timeout;
  private coordinationTimer?: NodeJS.Timeout;

  constructor(options: ControlPlaneOptions) {
    this.kc = options.kc;
    this.logger = options.logger.child({ component: 'control-plane' });
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
    this.coordination = options.coordination;
    this.statusDelayMs = options.statusDelayMs ?? 100;
    const ttl = options.secretTtlMs ?? 30_000;
    this.secrets = new SecretCache((namespace, name) => this.readSecret(namespace, name), ttl);
    this.hub = new SidecarHub(() => this.scheduleStatus());
    this.events = new EventRecorder(this.kc, this.logger, options.identity ?? 'chaperone-controller');
    this.router = controlRoutes(
      {
        verify: (token) => this.verifyToken(token),
        openStream: (identity, response) => this.openStream(identity, response),
        ack: (identity, revision) => this.hub.ack(identity.podUid, revision),
        report: (identity, report) => {
          this.hub.reportBreakers(identity.podUid, report.breakers);
          for (const refusal of report.refusals) this.recordRefusals(identity.namespace, refusal);
          for (const finding of report.findings ?? []) this.recordFinding(identity.namespace, finding);
        },
      },
      this.logger,
    );
  }

  /** For admission: providers of the policies that select a pod, so the webhook can wire its env. */
  readonly policyLookup: PolicyLookup = {
    providersFor: (pod) =>
      Promise.resolve(
        selectPolicies(this.store.accepted(pod.namespace), { ...pod, name: '', uid: '' }).flatMap((p) =>
          p.spec.providers.map((provider) => ({
            name: provider.name,
            type: provider.type,
            tokenAudiences: tokenAudiencesOf(provider),
          })),
        ),
      ),
  };

  async start(): Promise<void> {
    const discovery = await getJson<{ issuer: string; jwks_uri: string }>(
      this.kc,
      '/.well-known/openid-configuration',
    );
    const jwksPath = new URL(discovery.jwks_uri).pathname;
    const verify = tokenVerifier({
      issuer: discovery.issuer,
      keys: refreshingJwks(() => getJson(this.kc, jwksPath)),
      readPod: (namespace, name) => this.readPod(namespace, name),
    });

    this.policies = restartingInformer<AnyPolicy>(
      this.kc,
      `/apis/${GROUP}/${VERSION}/${POLICY.plural}`,
      () =>
        this.custom.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: POLICY.plural,
        }) as Promise<k8s.KubernetesListObject<AnyPolicy>>,
      'aiproviderpolicies',
      this.logger,
    );
    const onPolicy = (object: AnyPolicy): void => {
      const result = this.store.update(object);
      if (!result) return;
      const { state, previous } = result;
      // Only transitions are events; the first sight of a policy at start-up (no previous) is not.
      if (previous && state.accepted && this.leads()) {
        for (const event of killSwitchEvents(previous.spec, state.accepted.spec)) {
          void this.events.record(state, event);
        }
      }
      this.changed(result.namespace);
    };
    this.policies.informer.on('add', onPolicy);
    this.policies.informer.on('update', onPolicy);
    this.policies.informer.on('delete', (object) => {
      this.written.delete(object.metadata?.uid ?? '');
      this.changed(this.store.remove(object));
    });

    this.pods = restartingInformer<k8s.V1Pod>(
      this.kc,
      '/api/v1/pods',
      () => this.core.listPodForAllNamespaces(),
      'pods',
      this.logger,
    );
    this.pods.informer.on('update', (pod) => {
      const uid = pod.metadata?.uid;
      if (!uid || !this.hub.pods().some((p) => p.uid === uid)) return;
      this.hub.updateLabels(uid, pod.metadata?.labels ?? {});
      this.changed(pod.metadata?.namespace);
    });
    // A deleted pod's sidecar loses its stream at once; its token no longer verifies either.
    this.pods.informer.on('delete', (pod) => pod.metadata?.uid && this.hub.close(pod.metadata.uid));

    await Promise.all([this.policies.start(), this.pods.start()]);
    this.verify = verify;
    this.markStarted();
    // Rotated Secret values reach sidecars within the cache TTL.
    this.secretTimer = setInterval(
      () => {
        for (const namespace of new Set(this.hub.pods().map((p) => p.namespace))) this.changed(namespace);
      },
      Math.max(1000, this.secrets.ttl),
    );
    this.secretTimer.unref();
    if (this.coordination) {
      // Other replicas' counts arrive through their Leases: fold them in regularly.
      this.coordinationTimer = setInterval(() => this.scheduleStatus(), 2000);
      this.coordinationTimer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.secretTimer);
    clearInterval(this.coordinationTimer);
    clearTimeout(this.statusTimer);
    this.hub.closeAll();
    await Promise.all([this.policies?.stop(), this.pods?.stop()]);
  }

  synced(): boolean {
    return (this.policies?.synced() ?? false) && (this.pods?.synced() ?? false);
  }

  private async verifyToken(token: string | undefined): Promise<SidecarIdentity> {
    if (!this.verify) {
      // A sidecar reconnecting while this replica starts waits briefly instead of failing.
      await Promise.race([this.started, sleep(10_000)]);
      if (!this.verify) throw new ControlRefusal('VERIFICATION_UNAVAILABLE', 'the controller is starting');
    }
    if (token) {
      // Acknowledgements re-present the same token: skip the signature check while it is valid
      // and its pod is still the one in the watch cache.
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = this.verified.get(key);
      if (
        hit &&
        hit.expiresAt * 1000 > Date.now() &&
        this.cachedPodUid(hit.namespace, hit.podName) === hit.podUid
      ) {
        return hit;
      }
      const identity = await this.verify(token);
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(key, identity);
      return identity;
    }
    return this.verify(token);
  }

  private cachedPodUid(namespace: string, name: string): string | undefined {
    return this.pods?.informer.get(name, namespace)?.metadata?.uid;
  }

  private async readPod(
    namespace: string,
    name: string,
  ): Promise<{ uid: string; labels: Record<string, string> } | undefined> {
    const cached = this.pods?.informer.get(name, namespace);
    if (cached?.metadata?.uid) return { uid: cached.metadata.uid, labels: cached.metadata.labels ?? {} };
    try {
      const pod = await this.core.readNamespacedPod({ namespace, name });
      return { uid: pod.metadata?.uid ?? '', labels: pod.metadata?.labels ?? {} };
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  private async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ namespace, name });
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString('utf8'),
        ]),
      );
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  private podRef(identity: SidecarIdentity): PodRef {
    return {
      namespace: identity.namespace,
      name: identity.podName,
      uid: identity.podUid,
      labels: identity.podLabels,
    };
  }

  private async bundleFor(
    pod: PodRef,
    policies: BundlePolicy[] = selectPolicies(this.store.accepted(pod.namespace), pod),
  ): Promise<PolicyBundle> {
    await this.secrets.load(
      pod.namespace,
      referencedSecrets(policies).map((r) => r.name),
    );
    return buildBundle(pod, policies, (namespace, name, key) => this.secrets.value(namespace, name, key));
  }

  private async openStream(identity: SidecarIdentity, response: Response): Promise<void> {
    const pod = this.podRef(identity);
    const bundle = await this.bundleFor(pod);
    this.hub.open(pod, response, identity.expiresAt * 1000);
    this.hub.push(pod.uid, bundle);
  }

  /** Pushes fresh bundles to the namespace's connected sidecars (those whose bundle changed). */
  private changed(namespace: string | undefined): void {
    if (namespace !== undefined) {
      // Pods selected by the same policies share one bundle build (the revision covers content only).
      const builds = new Map<string, Promise<PolicyBundle>>();
      const accepted = this.store.accepted(namespace);
      for (const pod of this.hub.pods(namespace)) {
        const selected = selectPolicies(accepted, pod);
        const selection = selected.map((p) => `${p.uid}:${p.generation}`).join(',');
        let build = builds.get(selection);
        if (!build) builds.set(selection, (build = this.bundleFor(pod, selected)));
        build
          .then((shared) => ({ ...shared, pod: pod.name }))
          .then((bundle) => {
            if (this.hub.push(pod.uid, bundle)) {
              this.logger.debug({ namespace, pod: pod.name, revision: bundle.revision }, 'bundle pushed');
            }
          })
          .catch((err: unknown) =>
            this.logger.warn({ namespace, pod: pod.name, err: String(err) }, 'bundle not built'),
          );
      }
    }
    this.scheduleStatus();
  }

  /** Refusals become one aggregated Event per policy, code and provider (never one per request). */
  private recordRefusals(namespace: string, refusal: SidecarReport['refusals'][number]): void {
    const policy = this.store.states().find((s) => s.namespace === namespace && s.name === refusal.policy);
    if (!policy) return;
    const where = refusal.provider ? ` for provider ${refusal.provider}` : '';
    void this.events.record(policy, {
      type: 'Warning',
      reason: 'RequestsRefused',
      message: `requests refused with ${refusal.code}${where}`,
      count: refusal.count,
    });
  }

  /** Guard findings become aggregated Events per policy, provider and kind (types and counts only). */
  private recordFinding(namespace: string, finding: NonNullable<SidecarReport['findings']>[number]): void {
    const policy = this.store.states().find((s) => s.namespace === namespace && s.name === finding.policy);
    if (!policy) return;
    void this.events.record(policy, guardFindingEvent(finding));
  }

  private leads(): boolean {
    return !this.coordination || this.coordination.isLeader();
  }

  private scheduleStatus(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      void this.writeStatus();
    }, this.statusDelayMs);
    this.statusTimer.unref();
  }

  private async writeStatus(): Promise<void> {
    const local = this.hub.enforcement(this.store.inForce());
    this.coordination?.publish(local);
    if (this.coordination && !this.coordination.isLeader()) return;
    let enforcement = local;
    try {
      if (this.coordination) enforcement = await this.coordination.collect();
    } catch (err) {
      this.logger.warn({ err: String(err) }, "replica counts unavailable; writing this replica's own");
    }
    for (const state of this.store.states()) {
      let findings: ReturnType<typeof policyFindings> = [];
      if (state.accepted) {
        const spec = state.accepted.spec;
        try {
          await this.secrets.load(
            state.namespace,
            referencedSecrets([state.accepted]).map((r) => r.name),
          );
          findings = policyFindings(spec, (name) => this.secrets.keys(state.namespace, name));
        } catch (err) {
          this.logger.warn(
            { policy: `${state.namespace}/${state.name}`, err: String(err) },
            'secrets not readable',
          );
        }
      }
      const body = desiredStatus(state, enforcement.get(state.uid), findings, new Date());
      const previous = this.written.get(state.uid);
      if (sameStatus(previous, body)) continue;
      carryTransitionTimes(previous, body);
      try {
        await this.custom.patchNamespacedCustomObjectStatus(
          {
            group: GROUP,
            version: VERSION,
            plural: POLICY.plural,
            namespace: state.namespace,
            name: state.name,
            body: { status: body },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        this.written.set(state.uid, body);
      } catch (err) {
        this.logger.warn(
          { policy: `${state.namespace}/${state.name}`, err: String(err) },
          'status not written; will retry',
        );
        this.scheduleStatus();
      }
    }
  }
}
