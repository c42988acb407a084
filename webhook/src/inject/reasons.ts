// Stable reasons for every admission decision: logged, sent as an audit annotation, asserted in
// tests and listed in docs/webhook.md.

/** Why a pod is injected. */
export const INJECT_REASONS = {
  POD_OPTED_IN: 'POD_OPTED_IN',
  NAMESPACE_OPTED_IN: 'NAMESPACE_OPTED_IN',
} as const;

/** Why a request is allowed unchanged. */
export const SKIP_REASONS = {
  NOT_A_POD: 'NOT_A_POD',
  NOT_CREATE: 'NOT_CREATE',
  SUBRESOURCE: 'SUBRESOURCE',
  KUBE_SYSTEM_NAMESPACE: 'KUBE_SYSTEM_NAMESPACE',
  CONTROLLER_NAMESPACE: 'CONTROLLER_NAMESPACE',
  POD_OPTED_OUT: 'POD_OPTED_OUT',
  NAMESPACE_DISABLED: 'NAMESPACE_DISABLED',
  NOT_OPTED_IN: 'NOT_OPTED_IN',
  HOST_NETWORK: 'HOST_NETWORK',
} as const;

export type InjectReason = (typeof INJECT_REASONS)[keyof typeof INJECT_REASONS];
export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];
