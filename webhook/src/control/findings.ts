// What keeps an accepted policy from being fully usable, with a stable reason for each: missing
// Secrets or keys, failover cycles, providers that fail the policy's requirements. Pure.
import type { PolicySpecType, ProviderSpec } from '../../../api/src/policy/index.ts';
import { unmetRequirements } from '../../../api/src/policy/risk.ts';

export const FINDING_REASONS = {
  SecretMissing: 'SecretMissing',
  KeyMissing: 'KeyMissing',
  FailoverCycle: 'FailoverCycle',
  RequirementsNotMet: 'RequirementsNotMet',
} as const;
export type FindingReason = keyof typeof FINDING_REASONS;

export interface Finding {
  reason: FindingReason;
  provider: string;
  message: string;
}

/** A Secret's keys, or undefined when the Secret does not exist. */
export type SecretKeys = (name: string) => readonly string[] | undefined;

function secretFindings(provider: ProviderSpec, keys: SecretKeys): Finding[] {
  const ref = provider.credentials.secretRef;
  if (!ref) return [];
  const present = keys(ref.name);
  if (present === undefined) {
    return [
      { reason: 'SecretMissing', provider: provider.name, message: `Secret ${ref.name} does not exist` },
    ];
  }
  if (!present.includes(ref.key)) {
    return [
      { reason: 'KeyMissing', provider: provider.name, message: `Secret ${ref.name} has no key ${ref.key}` },
    ];
  }
  return [];
}

/** Providers on a failover cycle (a → b → a): the sidecar never follows one, but it is a mistake. */
function cycleFindings(providers: readonly ProviderSpec[]): Finding[] {
  const next = new Map(providers.map((p) => [p.name, p.failover ?? []]));
  const onCycle = new Set<string>();
  const visit = (start: string, current: string, seen: Set<string>): void => {
    for (const target of next.get(current) ?? []) {
      if (target === start) onCycle.add(start);
      else if (!seen.has(target)) visit(start, target, new Set(seen).add(target));
    }
  };
  for (const p of providers) visit(p.name, p.name, new Set([p.name]));
  return [...onCycle].map((name) => ({
    reason: 'FailoverCycle' as const,
    provider: name,
    message: `failover from ${name} leads back to it`,
  }));
}

function requirementFindings(spec: PolicySpecType): Finding[] {
  const findings: Finding[] = [];
  for (const p of spec.providers) {
    const problems = unmetRequirements(spec.requirements, p.risk);
    if (problems.length > 0) {
      findings.push({
        reason: 'RequirementsNotMet',
        provider: p.name,
        message: `${p.name}: ${problems.join('; ')}`,
      });
    }
  }
  return findings;
}

export function policyFindings(spec: PolicySpecType, keys: SecretKeys): Finding[] {
  return [
    ...spec.providers.flatMap((p) => secretFindings(p, keys)),
    ...cycleFindings(spec.providers),
    ...requirementFindings(spec),
  ];
}
