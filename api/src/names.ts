// The contract shared by the webhook, the sidecar, the chart and the tests: API group, resource
// names, annotations and labels, ports and token audiences. Defined once, imported everywhere.

export const GROUP = 'chaperone.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const POLICY = {
  kind: 'AIProviderPolicy',
  listKind: 'AIProviderPolicyList',
  plural: 'aiproviderpolicies',
  singular: 'aiproviderpolicy',
  shortNames: ['aipp'],
  categories: ['chaperone'],
} as const;

/** `<plural>.<group>`: the CRD's metadata.name. */
export const POLICY_CRD_NAME = `${POLICY.plural}.${GROUP}`;

export const ANNOTATIONS = {
  /** Pod (template) opt-in or opt-out: "true" | "false". "false" always wins. */
  inject: `${GROUP}/inject`,
  /** Written by the webhook: what was injected; also the idempotence marker. */
  status: `${GROUP}/status`,
} as const;

export const LABELS = {
  /** Namespace opt-in: `chaperone.dev/injection: enabled`. */
  namespaceInjection: `${GROUP}/injection`,
} as const;

/** Sidecar listeners, bound to loopback only. */
export const SIDECAR_PORTS = {
  providers: 15000,
  forwardProxy: 15001,
  admin: 15020,
} as const;

/** Audience of the projected token a sidecar presents to the controller. */
export const CONTROLLER_TOKEN_AUDIENCE = `${GROUP}/controller`;
