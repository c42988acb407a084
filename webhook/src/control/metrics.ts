// The controller's Prometheus metrics on GET /metrics (same HTTPS port). Enforcement gauges are this
// replica's own sidecars: summed over replicas (`sum by`) they give the cluster-wide figure.
import express, { type Router } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdmissionDecision } from '../admission/handle.ts';
import type { ControlPlane } from './control-plane.ts';

export interface ControllerMetrics {
  router: Router;
  observeAdmission(durationMs: number, decision: AdmissionDecision): void;
}

export function controllerMetrics(plane: ControlPlane, isLeader: () => boolean): ControllerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'chaperone_controller_' });
  const labelNames = ['policy_namespace', 'policy'] as const;
  const enforcement = (field: 'pods' | 'acknowledged') =>
    function (this: Gauge<(typeof labelNames)[number]>): void {
      this.reset();
      const counts = plane.hub.enforcement(plane.store.inForce());
      for (const state of plane.store.states()) {
        this.set(
          { policy_namespace: state.namespace, policy: state.name },
          counts.get(state.uid)?.[field] ?? 0,
        );
      }
    };
  new Gauge({
    name: 'chaperone_policy_enforcement_pods',
    help: 'Selected pods with a sidecar streaming from this replica',
    labelNames,
    registers: [registry],
    collect: enforcement('pods'),
  });
  new Gauge({
    name: 'chaperone_policy_enforcement_acknowledged',
    help: "Of those, sidecars that confirmed the policy's current generation",
    labelNames,
    registers: [registry],
    collect: enforcement('acknowledged'),
  });
  new Gauge({
    name: 'chaperone_controller_sidecar_streams',
    help: 'Open sidecar policy streams on this replica',
    registers: [registry],
    collect(): void {
      this.set(plane.hub.size);
    },
  });
  new Gauge({
    name: 'chaperone_controller_leader',
    help: '1 when this replica writes policy status',
    registers: [registry],
    collect(): void {
      this.set(isLeader() ? 1 : 0);
    },
  });
  const admissions = new Counter({
    name: 'chaperone_admission_requests_total',
    help: 'AdmissionReviews answered, by result and reason',
    labelNames: ['result', 'reason'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'chaperone_admission_duration_seconds',
    help: 'Server-side time to answer an AdmissionReview',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const router = express.Router();
  router.get('/metrics', (_req, res, next) => {
    registry
      .metrics()
      .then((text) => res.type(registry.contentType).send(text))
      .catch(next);
  });
  return {
    router,
    observeAdmission(durationMs, decision) {
      admissions.inc({ result: decision.result, reason: decision.reason });
      latency.observe(durationMs / 1000);
    },
  };
}
