// The refusals the sidecar answers an app with: a stable code, its HTTP status, and a JSON body
// `{code, reason, policy, provider}`. Apps and dashboards branch on `code`, never on `reason` text.
// Every code is documented in docs/refusals.md (a unit test checks that).

export const REFUSALS = {
  /** Host, port, path, method or model not allowed by the policy, or an unsafe destination address. */
  EGRESS_DENIED: { status: 403, summary: 'the destination or request is not allowed by the policy' },
  /** `spec.killSwitch` or the provider's `killSwitch` is engaged. */
  KILL_SWITCH_ENGAGED: { status: 503, summary: 'a kill switch stops every request to this provider' },
  /** The provider's circuit breaker is open after repeated upstream failures. */
  CIRCUIT_OPEN: { status: 503, summary: "the provider's circuit breaker is open" },
  /** `limits.requestsPerMinute` or `limits.tokensPerMinute` reached. */
  RATE_LIMITED: { status: 429, summary: 'a rate limit of the policy was reached' },
  /** The data boundary found sensitive data and its action is Block. */
  DATA_BOUNDARY_BLOCKED: { status: 422, summary: 'the request carries data that must not leave the pod' },
  /** A runtime guard (prompt injection, tools, cost burst) blocked the request. */
  GUARD_BLOCKED: { status: 403, summary: 'a runtime guard blocked the request' },
  /** The sidecar has no policy yet: it refuses all egress (fail closed). */
  POLICY_NOT_LOADED: { status: 503, summary: 'no policy is loaded yet' },
  /** The provider could not be reached, failed, timed out, or answered with a redirect. */
  UPSTREAM_ERROR: { status: 502, summary: 'the provider could not be reached or failed' },
  /** The credential for the provider could not be obtained (missing secret, workload identity). */
  IDENTITY_UNAVAILABLE: { status: 503, summary: 'no credential could be obtained for the provider' },
  /** The request body exceeds `limits.maxRequestBytes`. */
  REQUEST_TOO_LARGE: { status: 413, summary: 'the request body is larger than the policy allows' },
  /** The request is malformed or ambiguous (unparseable target, duplicate keys, bad framing). */
  BAD_REQUEST: { status: 400, summary: 'the request is malformed or ambiguous' },
} as const;

export type RefusalCode = keyof typeof REFUSALS;

export const REFUSAL_CODES = Object.keys(REFUSALS) as RefusalCode[];

/** The JSON body of every refusal. `policy` and `provider` are null when not (yet) known. */
export interface RefusalBody {
  code: RefusalCode;
  reason: string;
  policy: string | null;
  provider: string | null;
  /** The policy field that decided (`spec.providers[0].allowedPaths`), when one did. */
  rule?: string;
  /** Correlates the refusal with the sidecar's audit record. */
  requestId?: string;
}

export interface RefusalDetails {
  policy?: string | null;
  provider?: string | null;
  rule?: string;
  cause?: unknown;
}

/** The one base error of the data plane: `code` is stable, `reason` is for humans. */
export class RefusalError extends Error {
  readonly code: RefusalCode;
  readonly status: number;
  readonly reason: string;
  readonly policy: string | null;
  readonly provider: string | null;
  readonly rule: string | undefined;

  constructor(code: RefusalCode, reason: string, details: RefusalDetails = {}) {
    super(`${code}: ${reason}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RefusalError';
    this.code = code;
    this.status = REFUSALS[code].status;
    this.reason = reason;
    this.policy = details.policy ?? null;
    this.provider = details.provider ?? null;
    this.rule = details.rule;
  }

  toBody(requestId?: string): RefusalBody {
    const body: RefusalBody = {
      code: this.code,
      reason: this.reason,
      policy: this.policy,
      provider: this.provider,
    };
    if (this.rule !== undefined) body.rule = this.rule;
    if (requestId !== undefined) body.requestId = requestId;
    return body;
  }
}

export function isRefusal(err: unknown): err is RefusalError {
  return err instanceof RefusalError;
}
