// The connected sidecars: one Server-Sent Events stream per pod, the bundle revision each was
// sent and acknowledged, and from that the per-policy enforcement counts for status.
import type { ServerResponse } from 'node:http';
import type { BreakerState, PolicyBundle } from '../../../api/src/bundle.ts';
import type { PodRef } from './bundle.ts';
import { ControlRefusal } from './refusals.ts';

export interface Enforcement {
  generation: number;
  pods: number;
  acknowledged: number;
  /** Provider → pods whose sidecar reports its circuit breaker open. */
  openBreakers?: Record<string, number>;
}

interface Connection {
  pod: PodRef;
  response: ServerResponse;
  /** revision → the `uid:generation` pairs it contains. */
  sent: Map<string, Set<string>>;
  current?: PolicyBundle;
  acked?: string;
  breakers: Record<string, BreakerState>;
  keepalive: NodeJS.Timeout;
  closeAt: NodeJS.Timeout;
}

const KEEPALIVE_MS = 15_000;
const MAX_REMEMBERED_REVISIONS = 8;

export class SidecarHub {
  private readonly connections = new Map<string, Connection>();
  private readonly onChange: () => void;

  /** `onChange` runs after anything that can change enforcement counts. */
  constructor(onChange: () => void = () => {}) {
    this.onChange = onChange;
  }

  get size(): number {
    return this.connections.size;
  }

  /**
   * Takes over `response` as the pod's stream (replacing an older stream of the same pod) and
   * ends it at `expiresAt`, so a sidecar always reconnects with a fresh token.
   */
  open(pod: PodRef, response: ServerResponse, expiresAtMs: number): void {
    this.close(pod.uid);
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    const connection: Connection = {
      pod,
      response,
      sent: new Map(),
      breakers: {},
      keepalive: setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS),
      closeAt: setTimeout(() => this.close(pod.uid), Math.max(0, expiresAtMs - Date.now())),
    };
    connection.keepalive.unref();
    connection.closeAt.unref();
    this.connections.set(pod.uid, connection);
    response.once('close', () => {
      if (this.connections.get(pod.uid) === connection) this.forget(connection);
    });
  }

  /** Sends `bundle` unless the pod already has that revision. Returns whether it was sent. */
  push(podUid: string, bundle: PolicyBundle): boolean {
    const connection = this.connections.get(podUid);
    if (!connection || connection.current?.revision === bundle.revision) return false;
    connection.current = bundle;
    connection.sent.set(bundle.revision, new Set(bundle.policies.map((p) => `${p.uid}:${p.generation}`)));
    while (connection.sent.size > MAX_REMEMBERED_REVISIONS) {
      connection.sent.delete(connection.sent.keys().next().value!);
    }
    connection.response.write(`event: bundle\nid: ${bundle.revision}\ndata: ${JSON.stringify(bundle)}\n\n`);
    this.onChange();
    return true;
  }

  ack(podUid: string, revision: string): void {
    const connection = this.connections.get(podUid);
    if (!connection) throw new ControlRefusal('NOT_CONNECTED');
    if (!connection.sent.has(revision)) throw new ControlRefusal('UNKNOWN_REVISION', revision);
    connection.acked = revision;
    this.onChange();
  }

  /** The latest breaker states a pod's sidecar reported. */
  reportBreakers(podUid: string, breakers: Record<string, BreakerState>): void {
    const connection = this.connections.get(podUid);
    if (!connection) throw new ControlRefusal('NOT_CONNECTED');
    const changed = JSON.stringify(connection.breakers) !== JSON.stringify(breakers);
    connection.breakers = breakers;
    if (changed) this.onChange();
  }

  /** Connected pods, optionally only those of one namespace. */
  pods(namespace?: string): PodRef[] {
    return [...this.connections.values()]
      .map((c) => c.pod)
      .filter((p) => !namespace || p.namespace === namespace);
  }

  updateLabels(podUid: string, labels: Readonly<Record<string, string>>): void {
    const connection = this.connections.get(podUid);
    if (connection) connection.pod = { ...connection.pod, labels };
  }

  /** For each policy uid at its current generation: pods whose bundle has it, and how many acked it. */
  enforcement(current: ReadonlyMap<string, number>): Map<string, Enforcement> {
    const result = new Map<string, Enforcement>();
    for (const [uid, generation] of current) result.set(uid, { generation, pods: 0, acknowledged: 0 });
    for (const connection of this.connections.values()) {
      const acked = connection.acked ? connection.sent.get(connection.acked) : undefined;
      for (const policy of connection.current?.policies ?? []) {
        const entry = result.get(policy.uid);
        if (!entry) continue;
        entry.pods++;
        if (acked?.has(`${policy.uid}:${entry.generation}`)) entry.acknowledged++;
        for (const provider of policy.spec.providers ?? []) {
          if (connection.breakers[provider.name] !== 'open') continue;
          entry.openBreakers ??= {};
          entry.openBreakers[provider.name] = (entry.openBreakers[provider.name] ?? 0) + 1;
        }
      }
    }
    return result;
  }

  close(podUid: string): void {
    const connection = this.connections.get(podUid);
    if (!connection) return;
    this.forget(connection);
    connection.response.end();
  }

  closeAll(): void {
    for (const uid of [...this.connections.keys()]) this.close(uid);
  }

  private forget(connection: Connection): void {
    clearInterval(connection.keepalive);
    clearTimeout(connection.closeAt);
    this.connections.delete(connection.pod.uid);
    this.onChange();
  }
}
