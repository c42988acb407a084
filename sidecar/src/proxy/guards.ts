// The request-side data boundary and guards, between the policy decision and the credential: the
// provider-risk gate, then inspectRequest (redaction, injection, tools) on the body that will be
// sent. Returns the body to forward (redacted or not) and audit fields (never values).
import type { CompiledProvider } from '../policy/compile.ts';
import { auditFields } from '../guards/findings.ts';
import { inspectRequest } from '../guards/inspect.ts';
import { checkProviderRisk, type GuardDecision, type GuardPolicy } from '../guards/policy.ts';
import { apiShapeOf } from '../guards/shapes.ts';

export interface Guarded {
  decision: GuardDecision;
  body: Buffer | undefined;
  audit: Record<string, string | number>;
}

export function applyGuards(
  guards: GuardPolicy,
  provider: CompiledProvider,
  path: string,
  body: Buffer | undefined,
  contentEncoding: string | string[] | undefined,
): Guarded {
  const risk = checkProviderRisk(guards, provider.name);
  if (risk.result === 'deny') return { decision: risk, body, audit: {} };
  const encoding = Array.isArray(contentEncoding) ? contentEncoding.join(',') : contentEncoding;
  const inspection = inspectRequest(body, apiShapeOf(provider.type, path), guards, encoding);
  const decision = inspection.decision.result === 'allow' ? risk : inspection.decision;
  return {
    decision,
    body: inspection.body,
    audit: auditFields(inspection.findings) as Record<string, string | number>,
  };
}
