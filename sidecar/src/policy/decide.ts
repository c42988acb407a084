// decide(policy, request): the one place a request is judged. Pure — the proxy only calls it.
// Order: kill switch → provider → host and port → path and method → model → limits. Deny by
// default. In Report mode the allowlist and rate-limit denials become `report` (let through and
// recorded); kill switches and size limits are enforced in every mode.
import type { RefusalCode } from '../../../api/src/refusals.ts';
import type { CompiledPolicy, CompiledProvider } from './compile.ts';
import type { ModelRead } from './model.ts';

export interface RequestFacts {
  /** endpoint: `:15000/<provider>/...`; forward: absolute-form on `:15001`; connect: CONNECT tunnel. */
  via: 'endpoint' | 'forward' | 'connect';
  /** Base-URL mode: the provider named by the first path segment. */
  providerName?: string;
  /** Forward and CONNECT: the normalised destination (no port: the scheme's default, i.e. the provider's). */
  host?: string;
  port?: number;
  /** Absent on CONNECT (the tunnel is encrypted end to end). */
  method?: string;
  /** Decoded, normalised upstream path (the endpoint's own path included). */
  path?: string;
  /** Present once the body has been read. */
  model?: ModelRead;
  bodyBytes?: number;
  /** Current per-provider counts for the rate limits. */
  usage?: UsageView;
}

export interface UsageView {
  current(provider: string): { requests: number; tokens: number };
}

export type DecisionResult = 'allow' | 'deny' | 'report';

export interface Decision {
  result: DecisionResult;
  /** The refusal (or, in Report mode, the would-be refusal); null when allowed. */
  code: RefusalCode | null;
  reason: string;
  /** The policy field that decided: `spec.providers[0].allowedPaths`, `spec.killSwitch`, ... */
  rule: string;
  provider: CompiledProvider | null;
  /** Whether the path, method and model rules applied (not on CONNECT, not to extra hosts). */
  apiRulesApplied: boolean;
}

interface Denial {
  code: RefusalCode;
  reason: string;
  rule: string;
  /** Enforced even in Report mode. */
  hard?: boolean;
}

function verdict(
  policy: CompiledPolicy,
  provider: CompiledProvider | null,
  denial: Denial | null,
  apiRulesApplied: boolean,
): Decision {
  if (denial === null) {
    return {
      result: 'allow',
      code: null,
      reason: `allowed by ${provider?.rule ?? 'spec'}`,
      rule: provider?.rule ?? 'spec',
      provider,
      apiRulesApplied,
    };
  }
  const report = policy.mode === 'Report' && !denial.hard;
  return {
    result: report ? 'report' : 'deny',
    code: denial.code,
    reason: denial.reason,
    rule: denial.rule,
    provider,
    apiRulesApplied,
  };
}

const NOT_LOADED: Decision = {
  result: 'deny',
  code: 'POLICY_NOT_LOADED',
  reason: 'no policy is loaded yet: all egress is refused until one is',
  rule: 'sidecar',
  provider: null,
  apiRulesApplied: false,
};

/** Which provider the request is for, or why none is. */
function findProvider(
  policy: CompiledPolicy,
  facts: RequestFacts,
): { provider: CompiledProvider } | { denial: Denial } {
  if (facts.via === 'endpoint') {
    const provider = facts.providerName === undefined ? undefined : policy.byName.get(facts.providerName);
    if (provider) return { provider };
    const known = policy.providers.map((p) => p.name).join(', ');
    return {
      denial: {
        code: 'EGRESS_DENIED',
        reason: `no provider named "${facts.providerName ?? ''}" in policy ${policy.name} (it declares: ${known})`,
        rule: 'spec.providers',
        // There is no endpoint to let a Report-mode request through to.
        hard: true,
      },
    };
  }
  const host = facts.host ?? '';
  const provider = policy.providers.find((p) => p.hosts.matches(host));
  if (provider) return { provider };
  return {
    denial: {
      code: 'EGRESS_DENIED',
      reason: `host ${host} is not allowed by policy ${policy.name}`,
      rule: 'spec.providers[].allowedHosts',
    },
  };
}

function checkPort(provider: CompiledProvider, facts: RequestFacts): Denial | null {
  // Endpoint mode goes to the endpoint's port; an absolute-form request without a port to the provider's.
  if (facts.via === 'endpoint' || facts.port === undefined) return null;
  const expected = facts.host === provider.host ? provider.port : 443;
  if (facts.port === expected) return null;
  return {
    code: 'EGRESS_DENIED',
    reason: `port ${facts.port} of ${facts.host} is not allowed (only ${expected})`,
    rule: `${provider.rule}.endpoint`,
  };
}

function checkApi(provider: CompiledProvider, facts: RequestFacts): Denial | null {
  const path = facts.path ?? '';
  if (!provider.paths.matches(path))
    return {
      code: 'EGRESS_DENIED',
      reason: `path ${path} is not allowed for provider ${provider.name}${provider.pathsDefaulted ? ` (default paths of type ${provider.type})` : ''}`,
      rule: `${provider.rule}.allowedPaths`,
    };
  const method = facts.method ?? '';
  if (!provider.methods.has(method))
    return {
      code: 'EGRESS_DENIED',
      reason: `method ${method} is not allowed for provider ${provider.name} (allowed: ${[...provider.methods].join(', ')})`,
      rule: `${provider.rule}.allowedMethods`,
    };
  const model = facts.model;
  if (provider.models && model !== undefined) {
    if (model.kind === 'unreadable')
      return {
        code: 'EGRESS_DENIED',
        reason: `the model cannot be read reliably (${model.why}) and provider ${provider.name} allows only listed models`,
        rule: `${provider.rule}.allowedModels`,
      };
    if (model.kind === 'model' && !provider.models.matches(model.model))
      return {
        code: 'EGRESS_DENIED',
        reason: `model ${model.model} is not allowed for provider ${provider.name} (allowed: ${provider.models.patterns.join(', ')})`,
        rule: `${provider.rule}.allowedModels`,
      };
  }
  return null;
}

function checkLimits(provider: CompiledProvider, facts: RequestFacts): Denial | null {
  const { limits } = provider;
  if (facts.bodyBytes !== undefined && facts.bodyBytes > limits.maxRequestBytes)
    return {
      code: 'REQUEST_TOO_LARGE',
      reason: `the request body (${facts.bodyBytes} bytes) exceeds ${limits.maxRequestBytes} bytes`,
      rule: `${provider.rule}.limits.maxRequestBytes`,
      hard: true,
    };
  if (!facts.usage) return null;
  const usage = facts.usage.current(provider.name);
  if (limits.requestsPerMinute !== undefined && usage.requests >= limits.requestsPerMinute)
    return {
      code: 'RATE_LIMITED',
      reason: `provider ${provider.name} reached ${limits.requestsPerMinute} requests per minute`,
      rule: `${provider.rule}.limits.requestsPerMinute`,
    };
  if (limits.tokensPerMinute !== undefined && usage.tokens >= limits.tokensPerMinute)
    return {
      code: 'RATE_LIMITED',
      reason: `provider ${provider.name} reached ${limits.tokensPerMinute} tokens per minute`,
      rule: `${provider.rule}.limits.tokensPerMinute`,
    };
  return null;
}

export function decide(policy: CompiledPolicy | null, facts: RequestFacts): Decision {
  if (policy === null) return NOT_LOADED;
  if (policy.killSwitch)
    return verdict(
      policy,
      null,
      {
        code: 'KILL_SWITCH_ENGAGED',
        reason: `the kill switch of policy ${policy.name} is engaged`,
        rule: 'spec.killSwitch',
        hard: true,
      },
      false,
    );
  const found = findProvider(policy, facts);
  if ('denial' in found) return verdict(policy, null, found.denial, false);
  const { provider } = found;
  if (provider.killSwitch)
    return verdict(
      policy,
      provider,
      {
        code: 'KILL_SWITCH_ENGAGED',
        reason: `the kill switch of provider ${provider.name} is engaged`,
        rule: `${provider.rule}.killSwitch`,
        hard: true,
      },
      false,
    );
  const port = checkPort(provider, facts);
  if (port) return verdict(policy, provider, port, false);
  // Path, method and model describe the provider's API: they apply where the sidecar sees the
  // request (not inside a CONNECT tunnel) and to the endpoint host (not to extra allowedHosts).
  const apiRulesApplied =
    facts.via === 'endpoint' || (facts.via === 'forward' && facts.host === provider.host);
  if (apiRulesApplied) {
    const api = checkApi(provider, facts);
    if (api) return verdict(policy, provider, api, true);
  }
  return verdict(policy, provider, checkLimits(provider, facts), apiRulesApplied);
}
