// The provider-risk gate: does a provider's declared data handling (`providers[].risk`) satisfy the
// policy's `spec.requirements`? Pure and shared: the controller reports unmet requirements on the
// policy's status, the sidecar refuses to send to such a provider. One wording for both.
import type { PolicySpecType, ProviderSpec } from './index.ts';

export type Requirements = NonNullable<PolicySpecType['requirements']>;
export type ProviderRisk = ProviderSpec['risk'];

/** Each requirement the provider does not meet, in words (empty when it meets them all). */
export function unmetRequirements(requirements: Requirements | undefined, risk: ProviderRisk): string[] {
  if (!requirements) return [];
  const problems: string[] = [];
  const required = requirements.dataResidency;
  const regions = risk?.dataResidency ?? [];
  // Every region the provider may use must be allowed; undeclared residency meets no requirement.
  if (required?.length && (regions.length === 0 || regions.some((r) => !required.includes(r)))) {
    problems.push(`data residency [${regions.join(', ')}] is not within [${required.join(', ')}]`);
  }
  if (requirements.trainingOptOut && risk?.trainingOptOut !== true) {
    problems.push('training opt-out is not declared');
  }
  const maxDays = requirements.maxRetentionDays;
  if (maxDays !== undefined && (risk?.retentionDays ?? Infinity) > maxDays) {
    problems.push(`retention ${risk?.retentionDays ?? 'undeclared'} exceeds ${maxDays} days`);
  }
  return problems;
}
