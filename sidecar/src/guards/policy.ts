// A policy's data boundary and guards in the form the hot path reads: detector flags, actions,
// the tool allowlist as a set, and each provider's risk verdict, computed once per policy
// generation. Also the decision every guard returns, shaped like decide()'s.
import type { PolicySpecType } from '../../../api/src/policy/index.ts';
import { unmetRequirements } from '../../../api/src/policy/risk.ts';
import type { RefusalCode } from '../../../api/src/refusals.ts';
import { RefusalError } from '../../../api/src/refusals.ts';
import { detectorSet, type DetectorSet } from './detect/types.ts';

export type BoundaryAction = PolicySpecType['dataBoundary']['action'];
export type GuardAction = PolicySpecType['guards']['promptInjection']['action'];
export type AuditContent = PolicySpecType['audit']['content'];

/** Extra checks on one tool's arguments (a library option: the CRD does not expose them yet). */
export interface ToolArgumentRule {
  /** The argument must be a string matching this pattern (anchor it yourself). */
  pattern?: RegExp;
  /** The argument must be one of these values. */
  oneOf?: readonly (string | number | boolean)[];
  /** A string argument may be at most this long. */
  maxLength?: number;
  /** The argument must be present. */
  required?: boolean;
}

export interface GuardOptions {
  /** Per tool name, per argument name. */
  toolArguments?: Readonly<Record<string, Readonly<Record<string, ToolArgumentRule>>>>;
}

export interface GuardPolicy {
  /** spec.mode: in Report, a Block becomes a report (redaction still happens). */
  mode: PolicySpecType['mode'];
  boundary: {
    detectors: DetectorSet;
    action: BoundaryAction;
    restore: boolean;
  };
  injection: { action: GuardAction; threshold: number };
  tools: {
    action: GuardAction;
    allowed: ReadonlySet<string> | undefined;
    maxCallsPerResponse: number | undefined;
    arguments: GuardOptions['toolArguments'];
  };
  costBurst: { action: GuardAction; tokensPerMinute: number | undefined };
  /** Unmet spec.requirements per provider name (absent: the provider meets them). */
  risk: ReadonlyMap<string, readonly string[]>;
  /** spec.audit.content: what of the prompt and response text the audit record carries. */
  auditContent: AuditContent;
}

export function compileGuards(spec: PolicySpecType, options: GuardOptions = {}): GuardPolicy {
  const risk = new Map<string, readonly string[]>();
  for (const provider of spec.providers) {
    const problems = unmetRequirements(spec.requirements, provider.risk);
    if (problems.length > 0) risk.set(provider.name, problems);
  }
  const { dataBoundary, guards } = spec;
  return {
    mode: spec.mode,
    boundary: {
      detectors: detectorSet(dataBoundary.detectors),
      action: dataBoundary.action,
      restore: dataBoundary.restoreInResponse,
    },
    injection: { action: guards.promptInjection.action, threshold: guards.promptInjection.threshold },
    tools: {
      action: guards.tools.action,
      allowed: guards.tools.allowed ? new Set(guards.tools.allowed) : undefined,
      maxCallsPerResponse: guards.tools.maxCallsPerResponse,
      arguments: options.toolArguments,
    },
    costBurst: { action: guards.costBurst.action, tokensPerMinute: guards.costBurst.tokensPerMinute },
    risk,
    auditContent: spec.audit.content,
  };
}

export type GuardResult = 'allow' | 'report' | 'deny';

/** What a guard decided. `code` and `reason` are set for deny and report (the would-be refusal). */
export interface GuardDecision {
  result: GuardResult;
  code: RefusalCode | null;
  reason: string;
  /** The policy field that decided: `spec.dataBoundary.action`, `spec.guards.tools.allowed`, ... */
  rule: string;
}

export const ALLOW: GuardDecision = Object.freeze({
  result: 'allow',
  code: null,
  reason: 'allowed',
  rule: 'spec',
});

/**
 * A guard fired: Block refuses (unless the policy is in Report mode), Report records. `Off` never
 * gets here.
 */
export function fired(
  policy: GuardPolicy,
  block: boolean,
  code: RefusalCode,
  reason: string,
  rule: string,
): GuardDecision {
  const result: GuardResult = block && policy.mode === 'Enforce' ? 'deny' : 'report';
  return { result, code, reason, rule };
}

/** The stronger of two decisions (deny > report > allow; the first wins a tie). */
export function stronger(a: GuardDecision, b: GuardDecision): GuardDecision {
  const rank = (d: GuardDecision): number => (d.result === 'deny' ? 2 : d.result === 'report' ? 1 : 0);
  return rank(b) > rank(a) ? b : a;
}

/** The refusal a denying decision answers with (RATE_LIMITED, GUARD_BLOCKED, ...). */
export function refusalOf(
  decision: GuardDecision,
  details: { policy?: string | null; provider?: string | null } = {},
): RefusalError {
  return new RefusalError(decision.code ?? 'GUARD_BLOCKED', decision.reason, {
    ...details,
    rule: decision.rule,
  });
}

/**
 * The provider-risk gate: a provider whose declared risk does not meet spec.requirements is not
 * used (EGRESS_DENIED, in every mode but Report).
 */
export function checkProviderRisk(policy: GuardPolicy, provider: string): GuardDecision {
  const problems = policy.risk.get(provider);
  if (!problems) return ALLOW;
  return fired(
    policy,
    true,
    'EGRESS_DENIED',
    `provider ${provider} does not meet the policy's requirements: ${problems.join('; ')}`,
    'spec.requirements',
  );
}
