// Coordination through Leases (coordination.k8s.io/v1), for 2+ controller replicas:
// - leader election: one replica holds `chaperone-controller-leader` and alone writes status;
// - presence: every replica renews its own Lease carrying the enforcement counts of the sidecars
//   connected to it, so the leader can sum them across replicas.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Enforcement } from './hub.ts';

export const LEADER_LEASE = 'chaperone-controller-leader';
export const REPLICA_LABEL = 'chaperone.dev/controller-replica';
export const ENFORCEMENT_ANNOTATION = 'chaperone.dev/enforcement';

export interface LeaseOptions {
  kc: k8s.KubeConfig;
  namespace: string;
  identity: string;
  logger: Logger;
  leaseSeconds?: number;
  renewSeconds?: number;
}

type Counts = Record<string, Enforcement>;

const microTime = (date: Date): k8s.V1MicroTime => new k8s.V1MicroTime(date.getTime());

function expired(lease: k8s.V1Lease, now: number): boolean {
  const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
  return renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000 < now;
}

export class LeaseCoordinator {
  private readonly api: k8s.CoordinationV1Api;
  private readonly options: Required<LeaseOptions>;
  private leading = false;
  private stopped = false;
  private counts: Counts = {};
  private timer?: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();

  constructor(options: LeaseOptions) {
    this.options = { leaseSeconds: 15, renewSeconds: 5, ...options };
    this.api = options.kc.makeApiClient(k8s.CoordinationV1Api);
  }

  isLeader(): boolean {
    return this.leading;
  }

  get identity(): string {
    return this.options.identity;
  }

  /** The enforcement counts of this replica's sidecars, published at the next renewal. */
  publish(counts: ReadonlyMap<string, Enforcement>): void {
    this.counts = Object.fromEntries(counts);
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.inflight = this.renew().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.options.renewSeconds * 1000);
        this.timer.unref();
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal in flight would write the presence Lease back after its deletion (the stopped
    // replica's counts summed until it expired) or take the leadership after the hand-over.
    await this.inflight;
    const { namespace } = this.options;
    await this.api.deleteNamespacedLease({ name: this.replicaName(), namespace }).catch(() => undefined);
    if (this.leading) await this.handOver();
    this.leading = false;
  }

  /** Marks the leader Lease expired at once instead of making the next leader wait for expiry. */
  private async handOver(): Promise<void> {
    const { namespace, identity } = this.options;
    // A failed write (a conflict with the follower's write of the same version, say) is retried
    // from a fresh read.
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = await this.api
        .readNamespacedLease({ name: LEADER_LEASE, namespace })
        .catch(() => undefined);
      if (lease?.spec?.holderIdentity !== identity) return;
      lease.spec.renewTime = microTime(new Date(0));
      const written = await this.api
        .replaceNamespacedLease({ name: LEADER_LEASE, namespace, body: lease })
        .then(() => true)
        .catch(() => false);
      if (written) return;
    }
  }

  /** Sums the counts of every replica whose presence Lease is fresh. */
  async collect(): Promise<Map<string, Enforcement>> {
    const leases = await this.api.listNamespacedLease({
      namespace: this.options.namespace,
      labelSelector: REPLICA_LABEL,
    });
    const now = Date.now();
    const total = new Map<string, Enforcement>();
    for (const lease of leases.items) {
      if (expired(lease, now) || lease.metadata?.name === this.replicaName()) continue;
      const counts = JSON.parse(lease.metadata?.annotations?.[ENFORCEMENT_ANNOTATION] ?? '{}') as Counts;
      add(total, counts);
    }
    add(total, this.counts);
    return total;
  }

  private replicaName(): string {
    return `chaperone-controller-${this.options.identity}`.slice(0, 253);
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.renewPresence();
      await this.renewLeadership();
    } catch (err) {
      if (this.leading) this.options.logger.warn({ err: String(err) }, 'lost leadership: lease not renewed');
      this.leading = false;
    }
  }

  private async renewPresence(): Promise<void> {
    const { namespace, identity, leaseSeconds } = this.options;
    const body: k8s.V1Lease = {
      metadata: {
        name: this.replicaName(),
        namespace,
        labels: { [REPLICA_LABEL]: 'true' },
        annotations: { [ENFORCEMENT_ANNOTATION]: JSON.stringify(this.counts) },
      },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: microTime(new Date()),
      },
    };
    try {
      const current = await this.api.readNamespacedLease({ name: this.replicaName(), namespace });
      body.metadata!.resourceVersion = current.metadata?.resourceVersion;
      await this.api.replaceNamespacedLease({ name: this.replicaName(), namespace, body });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
      await this.api.createNamespacedLease({ namespace, body });
    }
  }

  private async renewLeadership(): Promise<void> {
    const { namespace, identity, leaseSeconds, logger } = this.options;
    const now = new Date();
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name: LEADER_LEASE, namespace });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
    }
    if (!lease) {
      await this.api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name: LEADER_LEASE, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: leaseSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        },
      });
      this.becomeLeader(true);
      return;
    }
    const mine = lease.spec?.holderIdentity === identity;
    if (!mine && !expired(lease, now.getTime())) {
      if (this.leading) logger.warn({ holder: lease.spec?.holderIdentity }, 'lost leadership');
      this.leading = false;
      return;
    }
    // Optimistic concurrency: the resourceVersion makes a racing replica's update fail.
    lease.spec = {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(now),
      ...(!mine && {
        acquireTime: microTime(now),
        leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1,
      }),
    };
    await this.api.replaceNamespacedLease({ name: LEADER_LEASE, namespace, body: lease });
    this.becomeLeader(!mine);
  }

  private becomeLeader(acquired: boolean): void {
    if (acquired || !this.leading)
      this.options.logger.info({ identity: this.options.identity }, 'leading: this replica writes status');
    this.leading = true;
  }
}

function add(total: Map<string, Enforcement>, counts: Counts): void {
  for (const [uid, entry] of Object.entries(counts)) {
    const sum = total.get(uid);
    if (!sum) total.set(uid, { ...entry });
    else if (sum.generation < entry.generation) {
      // Sidecars counted so far enforce an older generation: still pods, no longer acknowledged.
      total.set(uid, { ...entry, pods: entry.pods + sum.pods });
    } else if (sum.generation === entry.generation) {
      sum.pods += entry.pods;
      sum.acknowledged += entry.acknowledged;
      for (const [provider, pods] of Object.entries(entry.openBreakers ?? {})) {
        sum.openBreakers ??= {};
        sum.openBreakers[provider] = (sum.openBreakers[provider] ?? 0) + pods;
      }
    } else {
      // This replica's sidecars still run an older generation: they count as pods, not acknowledged.
      sum.pods += entry.pods;
    }
  }
}
