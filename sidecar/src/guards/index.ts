// The data boundary and runtime guards: the API the proxy calls. Everything here is pure (no IO):
// the proxy reads the body, calls inspectRequest, forwards or refuses; pipes the response through a
// ResponseScanner; reserves and settles with the RateLimiter. See docs/data-boundary.md.
export { compileGuards, checkProviderRisk, refusalOf, ALLOW } from './policy.ts';
export type { GuardPolicy, GuardDecision, GuardResult, GuardOptions, ToolArgumentRule } from './policy.ts';
export { inspectRequest } from './inspect.ts';
export type { RequestInspection } from './inspect.ts';
export { apiShapeOf } from './shapes.ts';
export type { ApiShape } from './shapes.ts';
export { Placeholders } from './placeholders.ts';
export { auditFields, findingCounts, costBurstFinding } from './findings.ts';
export type {
  RequestFindings,
  ResponseFindings,
  BoundaryFindings,
  AuditFields,
  FindingCount,
} from './findings.ts';
export { requestContent, responseContent, AUDIT_CONTENT_CHARS } from './audit-content.ts';
export { ResponseScanner, responseTransform } from './response.ts';
export type { ResponseScanOptions, CapturedContent } from './response.ts';
export { RateLimiter } from './rate.ts';
export type { Reservation, ReserveResult, ProviderLimits } from './rate.ts';
