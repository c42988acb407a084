// The policy bundle chaperone-controller streams to a sidecar: exactly the policies of the pod's
// namespace that select the pod, and the Secret values they reference. Shared wire contract.
import type { PolicySpecType } from './policy/index.ts';

/** Paths on the controller's HTTPS server that sidecars use. */
export const CONTROL_PATHS = {
  /** GET, Server-Sent Events: `event: bundle` with a PolicyBundle each time it changes. */
  stream: '/v1/sidecar/stream',
  /** POST {revision}: the sidecar enforces that bundle revision. */
  ack: '/v1/sidecar/ack',
  /** POST SidecarReport: breaker states and refusal counts since the last report. */
  report: '/v1/sidecar/report',
} as const;

/** Headers a sidecar sends with its projected token (Authorization: Bearer ...). */
export const CONTROL_HEADERS = {
  /** `<namespace>/<pod name>`, from the downward API: must match the token's bound pod. */
  pod: 'x-chaperone-pod',
} as const;

export interface BundlePolicy {
  name: string;
  uid: string;
  generation: number;
  spec: PolicySpecType;
}

export interface PolicyBundle {
  /** Content hash: changes whenever a policy, its generation or a referenced Secret value changes. */
  revision: string;
  namespace: string;
  pod: string;
  policies: BundlePolicy[];
  /** `<secret name>/<key>` → value, only for secretRefs of the policies above. */
  secrets: Record<string, string>;
  /** secretRefs that could not be resolved (`<secret name>/<key>`): those providers refuse requests. */
  missingSecrets: string[];
}

export interface BundleAck {
  revision: string;
}

export const secretKey = (name: string, key: string): string => `${name}/${key}`;

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** Which guard found something: the data boundary (a detector), or a runtime guard. */
export const FINDING_GUARDS = ['data-boundary', 'prompt-injection', 'tools', 'cost-burst'] as const;
/** What was done about it. */
export const FINDING_ACTIONS = ['redacted', 'blocked', 'reported'] as const;
/** In what the app sent, or in what the provider sent back. */
export const FINDING_DIRECTIONS = ['request', 'response'] as const;

/** One kind of guard finding and how often it occurred — types and counts, never values. */
export interface GuardFinding {
  guard: (typeof FINDING_GUARDS)[number];
  /** A detector (`email`), `unscanned`, or the guard's rule (`score`, `allowed`, `maxCallsPerResponse`, `arguments`, `tokensPerMinute`). */
  kind: string;
  action: (typeof FINDING_ACTIONS)[number];
  direction: (typeof FINDING_DIRECTIONS)[number];
  count: number;
}

/** What a sidecar tells the controller every few seconds; counts are deltas since the last report. */
export interface SidecarReport {
  /** Provider name → breaker state, for every provider of the bundle in force. */
  breakers: Record<string, BreakerState>;
  /** Refusals since the last report, per policy and code (never request content). */
  refusals: { policy: string; provider?: string; code: string; count: number }[];
  /** Guard findings since the last report, per policy, provider and kind (absent from older sidecars). */
  findings?: ({ policy: string; provider?: string } & GuardFinding)[];
}
