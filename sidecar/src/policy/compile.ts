// A validated AIProviderPolicy → the form decide() reads on every request: matchers built once,
// defaults of omitted lists filled in, endpoint URLs split. Pure; what the schema cannot express
// (an endpoint that is an IP literal, say) is reported with the field path, like validation errors.
import { createHash } from 'node:crypto';
import type { BlockList } from 'node:net';
import type { AIProviderPolicy, ProviderSpec, ProviderType } from '../../../api/src/policy/index.ts';
import type { FieldError } from '../../../api/src/policy/validate.ts';
import { cidrList } from '../egress/address.ts';
import { normalizeHost } from '../egress/host.ts';
import { DEFAULT_PATHS } from './defaults.ts';
import { hostMatcher, patternMatcher, type Matcher } from './match.ts';

export type Mode = AIProviderPolicy['spec']['mode'];

export type WorkloadIdentitySpec = NonNullable<ProviderSpec['credentials']['workloadIdentity']>;
export type IdentitySpec = NonNullable<ProviderSpec['identity']>;

export type CredentialSpec =
  { kind: 'secret'; name: string; key: string } | ({ kind: 'workload-identity' } & WorkloadIdentitySpec);

export interface CompiledProvider {
  index: number;
  /** Field path of the provider in the policy: `spec.providers[0]`. */
  rule: string;
  name: string;
  type: ProviderType;
  /** `https://host:port` of the endpoint. */
  origin: string;
  host: string;
  port: number;
  /** The endpoint's own path without a trailing slash (`/openai`), or ''. */
  basePath: string;
  /** The endpoint host and allowedHosts. */
  hosts: Matcher;
  allowedCidrs: BlockList | undefined;
  cidrs: readonly string[];
  /** Full upstream paths (decoded); `pathsDefaulted` when they come from the provider type. */
  paths: Matcher;
  pathsDefaulted: boolean;
  methods: ReadonlySet<string>;
  models: Matcher | undefined;
  credentials: CredentialSpec;
  /** Identity assertion and traffic tags (generic providers). */
  identity: IdentitySpec | undefined;
  caBundle: string | undefined;
  breaker: ProviderSpec['circuitBreaker'];
  failover: readonly string[];
  killSwitch: boolean;
  limits: ProviderSpec['limits'];
  /** Changes when anything that shapes the upstream connection changes (pools are rebuilt). */
  connectionKey: string;
}

export interface CompiledPolicy {
  name: string;
  namespace: string | undefined;
  generation: number | undefined;
  mode: Mode;
  killSwitch: boolean;
  providers: readonly CompiledProvider[];
  byName: ReadonlyMap<string, CompiledProvider>;
  /** sha256 of the policy as compiled, for /status and change detection. */
  fingerprint: string;
}

export type CompileResult = { ok: true; policy: CompiledPolicy } | { ok: false; errors: FieldError[] };

function decodePattern(pattern: string): string {
  try {
    return decodeURIComponent(pattern);
  } catch {
    return pattern;
  }
}

function compileProvider(
  spec: ProviderSpec,
  index: number,
  errors: FieldError[],
): CompiledProvider | undefined {
  const rule = `spec.providers[${index}]`;
  const url = new URL(spec.endpoint);
  const host = normalizeHost(url.hostname);
  if (!host.ok) {
    errors.push({ path: `${rule}.endpoint`, message: `endpoint must name a host: ${host.error.reason}` });
    return undefined;
  }
  const port = url.port === '' ? 443 : Number(url.port);
  const basePath = url.pathname.replace(/\/+$/, '');
  const explicitPaths = spec.allowedPaths?.map(decodePattern);
  const paths = explicitPaths ?? DEFAULT_PATHS[spec.type].map((p) => `${basePath}${p}`);
  const credentials: CredentialSpec = spec.credentials.secretRef
    ? { kind: 'secret', name: spec.credentials.secretRef.name, key: spec.credentials.secretRef.key }
    : {
        kind: 'workload-identity',
        ...(spec.credentials.workloadIdentity ?? { exchange: 'none', audience: '' }),
      };
  const cidrs = spec.allowedCIDRs ?? [];
  const origin = `https://${host.value}:${port}`;
  return {
    index,
    rule,
    name: spec.name,
    type: spec.type,
    origin,
    host: host.value,
    port,
    basePath,
    hosts: hostMatcher([host.value, ...(spec.allowedHosts ?? [])]),
    allowedCidrs: cidrList(cidrs),
    cidrs,
    paths: patternMatcher(paths),
    pathsDefaulted: explicitPaths === undefined,
    methods: new Set(spec.allowedMethods),
    models: spec.allowedModels ? patternMatcher(spec.allowedModels) : undefined,
    credentials,
    identity: spec.identity,
    caBundle: spec.caBundle,
    breaker: spec.circuitBreaker,
    failover: spec.failover ?? [],
    killSwitch: spec.killSwitch,
    limits: spec.limits,
    connectionKey: JSON.stringify([origin, cidrs, spec.allowedHosts ?? [], spec.caBundle ?? '']),
  };
}

/** Compiles a policy that validatePolicy() accepted. */
export function compilePolicy(policy: AIProviderPolicy): CompileResult {
  const errors: FieldError[] = [];
  const providers = policy.spec.providers
    .map((p, i) => compileProvider(p, i, errors))
    .filter((p): p is CompiledProvider => p !== undefined);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    policy: {
      name: policy.metadata.name,
      namespace: policy.metadata.namespace,
      generation: policy.metadata.generation,
      mode: policy.spec.mode,
      killSwitch: policy.spec.killSwitch,
      providers,
      byName: new Map(providers.map((p) => [p.name, p])),
      fingerprint: createHash('sha256').update(JSON.stringify(policy.spec)).digest('hex'),
    },
  };
}
