// Two controller replicas coordinating through Leases on the real apiserver: one leader at a time,
// enforcement counts summed across replicas, and an immediate hand-over on a clean stop.
import { afterAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import * as k8s from '@kubernetes/client-node';
import { LEADER_LEASE, LeaseCoordinator } from '../../webhook/src/control/leases.ts';
import { useTestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';

const cluster = useTestCluster('leases');
const logger = pino({ level: 'silent' });
const replica = (identity: string): LeaseCoordinator =>
  new LeaseCoordinator({
    kc: cluster.kc,
    namespace: cluster.namespace,
    identity,
    logger,
    leaseSeconds: 3,
    renewSeconds: 1,
  });
const a = replica('replica-a');
const b = replica('replica-b');

afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
});

describe('LeaseCoordinator', () => {
  it('elects exactly one leader', async () => {
    a.start();
    b.start();
    await eventually('a leader', () => (a.isLeader() || b.isLeader() ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // both renewed at least once more
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it("sums every live replica's enforcement counts", async () => {
    a.publish(new Map([['policy-1', { generation: 3, pods: 2, acknowledged: 2 }]]));
    b.publish(
      new Map([
        ['policy-1', { generation: 3, pods: 3, acknowledged: 1 }],
        ['policy-2', { generation: 1, pods: 1, acknowledged: 1 }],
      ]),
    );
    const leader = a.isLeader() ? a : b;
    const totals = await eventually('both replicas counted', async () => {
      const sum = await leader.collect();
      return sum.get('policy-1')?.pods === 5 ? sum : undefined;
    });
    expect(totals.get('policy-1')).toEqual({ generation: 3, pods: 5, acknowledged: 3 });
    expect(totals.get('policy-2')).toEqual({ generation: 1, pods: 1, acknowledged: 1 });
  });

  it('hands leadership over at once when the leader stops cleanly', async () => {
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    await leader.stop();
    // The hand-over is written at once: the lease reads as expired (or the follower already holds it),
    // rather than staying held until it would have expired on its own.
    const coordination = cluster.kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = await coordination.readNamespacedLease({
      name: LEADER_LEASE,
      namespace: cluster.namespace,
    });
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    expect(lease.spec?.holderIdentity === follower.identity || renewed === 0).toBe(true);
    await eventually('the follower to lead', () => (follower.isLeader() ? true : undefined), {
      timeoutMs: 5000,
    });
    const totals = await follower.collect();
    expect(totals.get('policy-2')?.pods ?? 0).toBe(follower === b ? 1 : 0);
  });

  it('stays stopped when stopped with a renewal in flight: its presence Lease is gone for good', async () => {
    const c = replica('replica-c');
    c.start(); // the first renewal is in flight at once
    await c.stop();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // two renewal periods
    const coordination = cluster.kc.makeApiClient(k8s.CoordinationV1Api);
    const names = (await coordination.listNamespacedLease({ namespace: cluster.namespace })).items.map(
      (l) => l.metadata?.name,
    );
    expect(names).not.toContain('chaperone-controller-replica-c');
    expect(c.isLeader()).toBe(false);
  });
});
