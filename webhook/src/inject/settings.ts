// What to inject into one pod: the controller's options, overridden by the pod's validated
// chaperone.dev/* annotations. A bad value throws InvalidOverrideError (admission is denied with
// its message) rather than producing a pod that cannot start.
import type { V1Pod } from '@kubernetes/client-node';
import {
  DEFAULT_NO_PROXY,
  DEFAULT_SIDECAR_IMAGE,
  CHAPERONE_VERSION,
  INJECTION_ANNOTATIONS,
  PROVIDER_TYPES,
  SIDECAR_DEFAULTS,
  SIDECAR_MODES,
  TOKEN_EXPIRATION,
  type ProviderType,
  type SidecarMode,
} from '../../../api/src/injection.ts';
import { CONTROLLER_TOKEN_AUDIENCE } from '../../../api/src/names.ts';
import { InvalidOverrideError } from '../errors.ts';
import { parseQuantity } from './quantity.ts';

/** A provider the app should reach through the sidecar. `type` is an AIProviderPolicy provider type. */
export interface ProviderRef {
  name: string;
  type: ProviderType;
}

/** A provider named by a policy, with the projected-token audiences its workload identity needs. */
export interface PolicyProviderRef extends ProviderRef {
  tokenAudiences?: readonly string[];
}

/** Per-process options (flags / environment of chaperone-controller). */
export interface InjectOptions {
  /** Recorded in the status annotation. */
  version: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  sidecarMode: SidecarMode;
  /** Where the sidecar reaches the controller's policy stream. */
  controllerUrl: string;
  /** PEM CA the sidecar trusts for controllerUrl (the webhook Secret's ca.crt); unset: system roots. */
  controllerCa?: string;
  tokenExpirationSeconds: number;
  /** Audiences added to every pod's token volume besides chaperone.dev/controller. */
  tokenAudiences: readonly string[];
  /** Appended to the built-in NO_PROXY list (e.g. the cluster's pod and service CIDRs). */
  noProxy: readonly string[];
  clusterDomain: string;
  /** Sidecar requests and limits when the pod sets no proxy-* annotation (default SIDECAR_DEFAULTS). */
  resources?: Resources;
}

/** Options for one pod: the process options plus what the policies selecting it name. */
export interface MutateOptions extends InjectOptions {
  policyProviders?: readonly PolicyProviderRef[];
}

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface InjectionSettings {
  version: string;
  image: string;
  imagePullPolicy: InjectOptions['imagePullPolicy'];
  mode: SidecarMode;
  controllerUrl: string;
  controllerCa?: string;
  tokenExpirationSeconds: number;
  /** CONTROLLER_TOKEN_AUDIENCE first, then the extras, without duplicates. */
  tokenAudiences: string[];
  resources: Resources;
  runAsUser: number;
  runAsGroup: number;
  providers: ProviderRef[];
  excludeContainers: string[];
  noProxy: string[];
}

export interface ResolvedSettings {
  settings: InjectionSettings;
  warnings: string[];
}

export function defaultInjectOptions(overrides: Partial<InjectOptions> = {}): InjectOptions {
  return {
    version: CHAPERONE_VERSION,
    image: DEFAULT_SIDECAR_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    sidecarMode: 'native',
    controllerUrl: 'https://chaperone-controller.chaperone-system.svc:443',
    tokenExpirationSeconds: TOKEN_EXPIRATION.default,
    tokenAudiences: [],
    noProxy: [],
    clusterDomain: 'cluster.local',
    ...overrides,
  };
}

const A = INJECTION_ANNOTATIONS;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const AUDIENCE = /^[^\s,]{1,256}$/;
const NO_PROXY_ENTRY = /^[A-Za-z0-9.\-:/*[\]]{1,253}$/;
const MAX_AUDIENCES = 8;

export function resolveSettings(pod: V1Pod, options: MutateOptions): ResolvedSettings {
  const annotations = pod.metadata?.annotations ?? {};
  const warnings: string[] = [];

  const mode = parseMode(annotations[A.sidecarMode], options.sidecarMode);
  const tokenExpirationSeconds = parseExpiration(
    annotations[A.tokenExpirationSeconds],
    options.tokenExpirationSeconds,
  );
  const tokenAudiences = unique([
    CONTROLLER_TOKEN_AUDIENCE,
    ...options.tokenAudiences,
    ...parseAudiences(annotations[A.tokenAudiences]),
  ]);
  if (tokenAudiences.length > MAX_AUDIENCES + 1) {
    throw new InvalidOverrideError(A.tokenAudiences, `at most ${MAX_AUDIENCES} extra audiences`);
  }
  // The audiences the selecting policies' workload identity needs (bounded by the policies' size).
  for (const ref of options.policyProviders ?? [])
    for (const audience of ref.tokenAudiences ?? [])
      if (!tokenAudiences.includes(audience)) tokenAudiences.push(audience);
  const providers = mergeProviders(
    parseProviders(annotations[A.providers]),
    (options.policyProviders ?? []).map(({ name, type }) => ({ name, type })),
    warnings,
  );
  const excludeContainers = parseList(annotations[A.excludeContainers]).map((name) => {
    if (!DNS_LABEL.test(name))
      throw new InvalidOverrideError(A.excludeContainers, `${quote(name)} is not a container name`);
    return name;
  });
  const known = new Set(
    [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name),
  );
  for (const name of excludeContainers) {
    if (!known.has(name))
      warnings.push(`${A.excludeContainers}: no container named ${quote(name)} in this pod`);
  }
  const extraNoProxy = parseList(annotations[A.noProxy]).map((entry) => {
    if (!NO_PROXY_ENTRY.test(entry))
      throw new InvalidOverrideError(A.noProxy, `${quote(entry)} is not a host, domain or CIDR`);
    return entry;
  });

  return {
    settings: {
      version: options.version,
      image: options.image,
      imagePullPolicy: options.imagePullPolicy,
      mode,
      controllerUrl: options.controllerUrl,
      ...(options.controllerCa && { controllerCa: options.controllerCa }),
      tokenExpirationSeconds,
      tokenAudiences,
      resources: parseResources(annotations, options.resources ?? SIDECAR_DEFAULTS.resources),
      runAsUser: parseId(A.proxyRunAsUser, annotations[A.proxyRunAsUser], SIDECAR_DEFAULTS.runAsUser),
      runAsGroup: parseId(A.proxyRunAsGroup, annotations[A.proxyRunAsGroup], SIDECAR_DEFAULTS.runAsGroup),
      providers,
      excludeContainers,
      noProxy: unique([
        ...DEFAULT_NO_PROXY,
        `.svc.${options.clusterDomain}`,
        `.${options.clusterDomain}`,
        ...options.noProxy,
        ...extraNoProxy,
      ]),
    },
    warnings,
  };
}

function parseList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function parseMode(value: string | undefined, fallback: SidecarMode): SidecarMode {
  if (value === undefined) return fallback;
  const mode = SIDECAR_MODES.find((m) => m === value);
  if (!mode)
    throw new InvalidOverrideError(
      A.sidecarMode,
      `must be one of ${SIDECAR_MODES.join(', ')}, got ${quote(value)}`,
    );
  return mode;
}

function parseExpiration(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = /^[0-9]{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= TOKEN_EXPIRATION.min && seconds <= TOKEN_EXPIRATION.max)) {
    throw new InvalidOverrideError(
      A.tokenExpirationSeconds,
      `must be a whole number of seconds from ${TOKEN_EXPIRATION.min} to ${TOKEN_EXPIRATION.max}, got ${quote(value)}`,
    );
  }
  return seconds;
}

function parseAudiences(value: string | undefined): string[] {
  return parseList(value).map((audience) => {
    if (!AUDIENCE.test(audience))
      throw new InvalidOverrideError(A.tokenAudiences, `${quote(audience)} is not a token audience`);
    return audience;
  });
}

function isProviderType(value: string): value is ProviderType {
  return PROVIDER_TYPES.some((t) => t === value);
}

function parseProviders(value: string | undefined): ProviderRef[] {
  const providers: ProviderRef[] = [];
  for (const item of parseList(value)) {
    const [name = '', type, ...rest] = item.split('=').map((part) => part.trim());
    if (rest.length > 0 || !DNS_LABEL.test(name)) {
      throw new InvalidOverrideError(
        A.providers,
        `${quote(item)} is not "name" or "name=type" (name: a DNS label)`,
      );
    }
    const wanted = type ?? (isProviderType(name) ? name : 'generic');
    if (!isProviderType(wanted)) {
      throw new InvalidOverrideError(
        A.providers,
        `unknown provider type ${quote(wanted)} (one of ${PROVIDER_TYPES.join(', ')})`,
      );
    }
    const resolvedType: ProviderType = wanted;
    const previous = providers.find((p) => p.name === name);
    if (previous && previous.type !== resolvedType) {
      throw new InvalidOverrideError(
        A.providers,
        `provider ${quote(name)} is named twice with different types`,
      );
    }
    if (!previous) providers.push({ name, type: resolvedType });
  }
  return providers;
}

/** Annotation order first, then policy order; a policy's declared type wins over the annotation's. */
function mergeProviders(
  fromAnnotation: readonly ProviderRef[],
  fromPolicies: readonly ProviderRef[],
  warnings: string[],
): ProviderRef[] {
  const merged = fromAnnotation.map((p) => ({ ...p }));
  for (const provider of fromPolicies) {
    const existing = merged.find((p) => p.name === provider.name);
    if (!existing) {
      merged.push({ name: provider.name, type: provider.type });
    } else if (existing.type !== provider.type) {
      warnings.push(
        `${A.providers}: provider ${quote(provider.name)} is type ${quote(provider.type)} in its policy, not ${quote(existing.type)}`,
      );
      existing.type = provider.type;
    }
  }
  return merged;
}

function parseResources(annotations: Readonly<Record<string, string>>, defaults: Resources): Resources {
  const pick = (key: string, fallback: string): string => {
    const value = annotations[key];
    if (value === undefined) return fallback;
    const parsed = parseQuantity(value);
    if (parsed === undefined || !(parsed > 0)) {
      throw new InvalidOverrideError(
        key,
        `${quote(value)} is not a positive Kubernetes quantity (e.g. 100m, 1, 128Mi)`,
      );
    }
    return value;
  };
  const resources: Resources = {
    requests: {
      cpu: pick(A.proxyCpuRequest, defaults.requests.cpu),
      memory: pick(A.proxyMemoryRequest, defaults.requests.memory),
    },
    limits: {
      cpu: pick(A.proxyCpuLimit, defaults.limits.cpu),
      memory: pick(A.proxyMemoryLimit, defaults.limits.memory),
    },
  };
  for (const [resource, requestKey, limitKey] of [
    ['cpu', A.proxyCpuRequest, A.proxyCpuLimit],
    ['memory', A.proxyMemoryRequest, A.proxyMemoryLimit],
  ] as const) {
    const request = resources.requests[resource];
    const limit = resources.limits[resource];
    if (parseQuantity(request)! > parseQuantity(limit)!) {
      const blame = annotations[requestKey] !== undefined ? requestKey : limitKey;
      throw new InvalidOverrideError(
        blame,
        `${resource} request ${request} exceeds the ${resource} limit ${limit} (set ${requestKey} and ${limitKey} together)`,
      );
    }
  }
  return resources;
}

function parseId(key: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const id = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(id >= 1 && id <= 2_147_483_647)) {
    throw new InvalidOverrideError(
      key,
      `must be a non-zero user/group id (the sidecar never runs as root), got ${quote(value)}`,
    );
  }
  return id;
}
