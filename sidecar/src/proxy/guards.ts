// The data boundary and guards around one exchange, between the policy decision and the bytes:
// the provider-risk gate and inspectRequest (redaction, injection, tools) on the body that will be
// sent; the rate reservation; what the response scanner needs; and, once the exchange is over,
// the findings and audit fields (counts and names, never values; content only as spec.audit says).
import type { Exchange } from './exchange.ts';
import type { CompiledProvider } from '../policy/compile.ts';
import type { JsonBody } from '../policy/json-body.ts';
import { requestContent, responseContent, AUDIT_CAPTURE_CHARS } from '../guards/audit-content.ts';
import { auditFields, costBurstFinding, findingCounts, type RequestFindings } from '../guards/findings.ts';
import { inspectRequest } from '../guards/inspect.ts';
import type { Placeholders } from '../guards/placeholders.ts';
import {
  ALLOW,
  checkProviderRisk,
  compileGuards,
  type GuardDecision,
  type GuardPolicy,
} from '../guards/policy.ts';
import type { RateLimiter, Reservation } from '../guards/rate.ts';
import type { ResponseScanOptions, ResponseScanner } from '../guards/response.ts';
import { apiShapeOf } from '../guards/shapes.ts';

/** One exchange's guard state, from the request's inspection to the response's findings. */
export interface GuardRun {
  policy: GuardPolicy;
  decision: GuardDecision;
  /** The body to send (redacted, or the original). */
  body: Buffer | undefined;
  findings: RequestFindings | undefined;
  placeholders: Placeholders | undefined;
  estimatedTokens: number;
}

export function applyGuards(
  guards: GuardPolicy,
  provider: CompiledProvider,
  path: string,
  body: Buffer | undefined,
  contentEncoding: string | string[] | undefined,
  json?: JsonBody,
): GuardRun {
  const risk = checkProviderRisk(guards, provider.name);
  const roughTokens = Math.ceil((body?.length ?? 0) / 4);
  if (risk.result === 'deny' || !readsTheBody(guards, provider)) {
    return {
      policy: guards,
      decision: risk,
      body,
      findings: undefined,
      placeholders: undefined,
      estimatedTokens: roughTokens,
    };
  }
  const encoding = Array.isArray(contentEncoding) ? contentEncoding.join(',') : contentEncoding;
  const inspection = inspectRequest(body, apiShapeOf(provider.type, path), guards, encoding, json);
  return {
    policy: guards,
    decision: inspection.decision.result === 'allow' ? risk : inspection.decision,
    body: inspection.body,
    findings: inspection.findings,
    placeholders: inspection.placeholders,
    estimatedTokens: inspection.estimatedTokens,
  };
}

/**
 * Whether anything reads the request body's inspection: a detector, a guard, or a token budget its
 * estimate counts against. With none, the body goes out unparsed by the guards (and the audit line
 * has no chaperone.boundary fields).
 */
function readsTheBody(guards: GuardPolicy, provider: CompiledProvider): boolean {
  return (
    guards.boundary.detectors.any ||
    guards.injection.action !== 'Off' ||
    guards.tools.action !== 'Off' ||
    guards.costBurst.action !== 'Off' ||
    provider.limits.tokensPerMinute !== undefined
  );
}

/** The limits alone, for a policy compiled without guards: reservations still need a mode. */
const LIMITS_ONLY = {
  Enforce: limitsOnly('Enforce'),
  Report: limitsOnly('Report'),
};

function limitsOnly(mode: GuardPolicy['mode']): GuardPolicy {
  return compileGuards({
    podSelector: {},
    mode,
    killSwitch: false,
    providers: [],
    dataBoundary: { detectors: [], action: 'Report', restoreInResponse: false },
    guards: {
      promptInjection: { action: 'Off', threshold: 100 },
      tools: { action: 'Off' },
      costBurst: { action: 'Off' },
    },
    audit: { content: 'Metadata' },
  });
}

export interface Reserved {
  decision: GuardDecision;
  /** Settle or release it once the call is over (undefined: nothing to count). */
  reservation: Reservation | undefined;
}

const NOTHING_TO_COUNT: Reserved = { decision: ALLOW, reservation: undefined };

/**
 * Reserves the request and its estimated tokens (requestsPerMinute, tokensPerMinute, cost burst).
 * Nothing is reserved when no limit or burst guard would read the counts.
 */
export function reserveCall(
  limiter: RateLimiter,
  guards: GuardPolicy | undefined,
  mode: GuardPolicy['mode'],
  provider: CompiledProvider,
  estimatedTokens: number,
): Reserved {
  const { requestsPerMinute, tokensPerMinute } = provider.limits;
  const burst = guards !== undefined && guards.costBurst.action !== 'Off';
  if (requestsPerMinute === undefined && tokensPerMinute === undefined && !burst) return NOTHING_TO_COUNT;
  return limiter.reserve(guards ?? LIMITS_ONLY[mode], provider, estimatedTokens);
}

/** Settles the reservation with what the provider reported, or releases it when nothing was sent. */
export function settleCall(limiter: RateLimiter, reservation: Reservation, exchange: Exchange): void {
  if (exchange.status === 0) {
    limiter.release(reservation);
    return;
  }
  const usage = exchange.usage;
  const reported =
    usage?.inputTokens !== undefined || usage?.outputTokens !== undefined
      ? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0)
      : undefined;
  // A provider error consumed no tokens; a success without usage counts as estimated.
  limiter.settle(reservation, reported ?? (exchange.status >= 400 ? 0 : undefined));
}

/** What the response scanner needs, or undefined when nothing in the policy reads the response. */
export function responseScanOf(run: GuardRun): Omit<ResponseScanOptions, 'contentType'> | undefined {
  const { policy } = run;
  const needed =
    policy.boundary.detectors.any ||
    policy.tools.action !== 'Off' ||
    run.placeholders !== undefined ||
    policy.auditContent !== 'Metadata';
  if (!needed) return undefined;
  return {
    policy,
    placeholders: run.placeholders,
    ...(policy.auditContent !== 'Metadata' && { captureChars: AUDIT_CAPTURE_CHARS }),
  };
}

/** The cost-burst finding of a reservation, onto the exchange. */
export function noteReservation(exchange: Exchange, reserved: Reserved): void {
  const finding = costBurstFinding(reserved.decision);
  if (finding) (exchange.findings ??= []).push(finding);
}

/**
 * Findings, audit fields and (per spec.audit.content) content of the exchange, once it is over or
 * refused. `original` is the body the app sent; `secrets` the provider's credentials.
 */
export function recordGuards(
  exchange: Exchange,
  run: GuardRun,
  original: Buffer | undefined,
  secrets: readonly string[],
  scanner?: ResponseScanner,
): void {
  const response = scanner?.findings;
  const counts = findingCounts(run.policy, run.findings, response);
  if (counts.length > 0) (exchange.findings ??= []).push(...counts);
  const fields: Record<string, string | number | boolean | null> = {};
  if (run.findings) Object.assign(fields, auditFields(run.findings, response));
  const mode = run.policy.auditContent;
  if (mode !== 'Metadata') {
    const sent = requestContent(mode, run.body, original, secrets);
    if (sent) {
      fields['chaperone.request.content'] = sent.text;
      if (sent.truncated) fields['chaperone.request.content_truncated'] = true;
    }
    const answer = responseContent(mode, scanner?.content, run.placeholders, secrets);
    if (answer) {
      fields['chaperone.response.content'] = answer.text;
      if (answer.truncated) fields['chaperone.response.content_truncated'] = true;
    }
  }
  exchange.guards = { ...exchange.guards, ...fields };
}
