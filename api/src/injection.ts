// The injection contract: what the webhook writes into a pod and what the sidecar and the app read
// back. Annotation keys, container and volume names, mount paths, environment variable names and
// the provider-type → SDK variable mapping. Defined once; the webhook, the sidecar, the chart and
// docs/webhook.md follow it.
import { ANNOTATIONS, GROUP, SIDECAR_PORTS } from './names.ts';
import { PROVIDER_TYPES, type ProviderType } from './policy/vocabulary.ts';

export { PROVIDER_TYPES, type ProviderType };

/** Released together with the controller and the sidecar; a test keeps it equal to package.json. */
export const CHAPERONE_VERSION = '0.1.0';

/** Default sidecar image; the chart (or `--sidecar-image`) sets the real reference. */
export const DEFAULT_SIDECAR_IMAGE = `chaperone/chaperone-proxy:${CHAPERONE_VERSION}`;

/** Pod annotations the webhook reads (besides `inject`) and writes (`status`). */
export const INJECTION_ANNOTATIONS = {
  inject: ANNOTATIONS.inject,
  status: ANNOTATIONS.status,
  /** Comma-separated provider names, each optionally `name=type`: `openai,claude=anthropic`. */
  providers: `${GROUP}/providers`,
  /** Comma-separated container names that get no proxy or provider environment. */
  excludeContainers: `${GROUP}/exclude-containers`,
  /** Comma-separated extra token audiences, e.g. `api://AzureADTokenExchange,sts.amazonaws.com`. */
  tokenAudiences: `${GROUP}/token-audiences`,
  /** Lifetime of the projected tokens, seconds (600 to 86400). */
  tokenExpirationSeconds: `${GROUP}/token-expiration-seconds`,
  /** `native` (init container with restartPolicy Always, the default) or `container`. */
  sidecarMode: `${GROUP}/sidecar-mode`,
  /** Comma-separated hosts/domains/CIDRs appended to the app's NO_PROXY. */
  noProxy: `${GROUP}/no-proxy`,
  /** Sidecar resources (Kubernetes quantities). */
  proxyCpuRequest: `${GROUP}/proxy-cpu-request`,
  proxyCpuLimit: `${GROUP}/proxy-cpu-limit`,
  proxyMemoryRequest: `${GROUP}/proxy-memory-request`,
  proxyMemoryLimit: `${GROUP}/proxy-memory-limit`,
  /** Sidecar user and group ids (non-zero integers: the sidecar never runs as root). */
  proxyRunAsUser: `${GROUP}/proxy-run-as-user`,
  proxyRunAsGroup: `${GROUP}/proxy-run-as-group`,
} as const;

/** Namespace label values for `chaperone.dev/injection`. */
export const NAMESPACE_INJECTION = { enabled: 'enabled', disabled: 'disabled' } as const;

export const SIDECAR_CONTAINER_NAME = 'chaperone-proxy';
/** Projected service-account token volume, mounted into the sidecar only. */
export const TOKEN_VOLUME_NAME = 'chaperone-token';
export const TOKEN_MOUNT_PATH = `/var/run/secrets/${GROUP}/tokens`;
/** File (under TOKEN_MOUNT_PATH) holding the token for CONTROLLER_TOKEN_AUDIENCE. */
export const CONTROLLER_TOKEN_FILE = 'controller';
/** Name of the sidecar's admin container port (the kubelet probes it). */
export const ADMIN_PORT_NAME = 'chaperone-admin';

export const SIDECAR_MODES = ['native', 'container'] as const;
export type SidecarMode = (typeof SIDECAR_MODES)[number];

export const TOKEN_EXPIRATION = { min: 600, max: 86_400, default: 3600 } as const;

/** Hardened defaults for the sidecar (overridable through the proxy-* annotations). */
export const SIDECAR_DEFAULTS = {
  runAsUser: 65532,
  runAsGroup: 65532,
  resources: {
    requests: { cpu: '50m', memory: '64Mi' },
    limits: { cpu: '1', memory: '256Mi' },
  },
} as const;

/** Environment the webhook gives the sidecar. */
export const SIDECAR_ENV = {
  podName: 'CHAPERONE_POD_NAME',
  podNamespace: 'CHAPERONE_POD_NAMESPACE',
  podUid: 'CHAPERONE_POD_UID',
  serviceAccount: 'CHAPERONE_SERVICE_ACCOUNT',
  controllerUrl: 'CHAPERONE_CONTROLLER_URL',
  /** PEM CA certificate(s) that signed the controller's serving certificate. */
  controllerCa: 'CHAPERONE_CONTROLLER_CA',
  /** JSON object: token audience -> absolute file path of its projected token. */
  tokenFiles: 'CHAPERONE_TOKEN_FILES',
  /** `host:port` of the admin listener (all interfaces, so the kubelet's probes reach it). */
  adminAddress: 'CHAPERONE_ADMIN_ADDRESS',
} as const;

/** Proxy variables the webhook gives app containers; each pair is set (or left) as one. */
export const PROXY_ENV = {
  http: ['HTTP_PROXY', 'http_proxy'],
  https: ['HTTPS_PROXY', 'https_proxy'],
  noProxy: ['NO_PROXY', 'no_proxy'],
} as const;

/** Forward-proxy URL (HTTP and CONNECT) for HTTP(S)_PROXY. */
export const FORWARD_PROXY_URL = `http://127.0.0.1:${SIDECAR_PORTS.forwardProxy}`;
/** Base of the per-provider endpoints: `<base>/<provider-name>/...`. */
export const PROVIDER_ENDPOINT_BASE = `http://127.0.0.1:${SIDECAR_PORTS.providers}`;

/** Cluster-local destinations that stay direct (joined with the cluster domain and extras). */
export const DEFAULT_NO_PROXY = ['localhost', '127.0.0.1', '::1', '.svc'] as const;

/**
 * API key value given to the app so SDKs start; the sidecar replaces it with the real credential
 * (or an exchanged token) on the way out. Never a secret.
 */
export const PLACEHOLDER_API_KEY = 'chaperone-managed-placeholder';

/** The variables an SDK reads for one provider type. */
export interface SdkEnv {
  /** Variable holding the base URL / endpoint. */
  baseUrl: string;
  /** Path appended to `<PROVIDER_ENDPOINT_BASE>/<name>` (the SDK adds the rest). */
  baseUrlSuffix: string;
  /** Variable holding the API key the SDK insists on. */
  apiKey: string;
}

/**
 * Provider types (the AIProviderPolicy `type` enum, PROVIDER_TYPES) whose official SDKs read their
 * endpoint and key from the environment. Any other type gets CHAPERONE_<NAME>_BASE_URL.
 */
export const PROVIDER_SDK_ENV: Readonly<Partial<Record<ProviderType, SdkEnv>>> = {
  openai: { baseUrl: 'OPENAI_BASE_URL', baseUrlSuffix: '/v1', apiKey: 'OPENAI_API_KEY' },
  anthropic: { baseUrl: 'ANTHROPIC_BASE_URL', baseUrlSuffix: '', apiKey: 'ANTHROPIC_API_KEY' },
  'azure-openai': { baseUrl: 'AZURE_OPENAI_ENDPOINT', baseUrlSuffix: '', apiKey: 'AZURE_OPENAI_API_KEY' },
};

/** `CHAPERONE_<NAME>_BASE_URL` for a provider name (`my-llm` → `CHAPERONE_MY_LLM_BASE_URL`). */
export function genericBaseUrlEnv(providerName: string): string {
  return `CHAPERONE_${providerName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BASE_URL`;
}

/** `<PROVIDER_ENDPOINT_BASE>/<name><suffix>`: where the app reaches provider `name`. */
export function providerEndpoint(providerName: string, suffix = ''): string {
  return `${PROVIDER_ENDPOINT_BASE}/${providerName}${suffix}`;
}

/**
 * Containers of other infrastructure (service-mesh proxies and their init steps) that never get the
 * proxy environment: their own control-plane traffic must not be routed through Chaperone.
 */
export const INFRASTRUCTURE_CONTAINERS = [
  SIDECAR_CONTAINER_NAME,
  'istio-proxy',
  'istio-init',
  'istio-validation',
  'linkerd-proxy',
  'linkerd-init',
  'linkerd-network-validator',
] as const;

/**
 * Ports known to be bound inside the pod by other sidecars; a pod that has one of these containers
 * cannot also run chaperone-proxy when the sets overlap with SIDECAR_PORTS.
 */
export const KNOWN_SIDECAR_PORTS: Readonly<Record<string, readonly number[]>> = {
  'istio-proxy': [15000, 15001, 15004, 15006, 15020, 15021, 15053, 15090],
};
