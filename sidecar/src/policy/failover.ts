// Failover: while a provider's circuit breaker is open or its kill switch is engaged, requests for it
// go to the first of its declared `failover` providers that is usable (same API family — the CRD's
// CEL rules guarantee it — not killed, breaker not open). Pure; the proxy passes breaker states in.
import type { CompiledPolicy, CompiledProvider } from './compile.ts';

export type BreakerLookup = (provider: string) => string | undefined;

export interface Choice {
  provider: CompiledProvider;
  /** Set when the request was moved away from the provider the app asked for. */
  failedOverFrom?: { provider: string; because: 'circuit open' | 'kill switch' };
}

const unusable = (p: CompiledProvider, breaker: BreakerLookup): 'circuit open' | 'kill switch' | undefined =>
  p.killSwitch ? 'kill switch' : breaker(p.name) === 'open' ? 'circuit open' : undefined;

/** The provider to serve a request for `name` with, or undefined when the policy has none. */
export function chooseProvider(
  policy: CompiledPolicy,
  name: string,
  breaker: BreakerLookup,
): Choice | undefined {
  const requested = policy.byName.get(name);
  if (!requested) return undefined;
  const because = unusable(requested, breaker);
  // A policy-wide kill switch stops everything: no failover around it.
  if (!because || policy.killSwitch) return { provider: requested };
  for (const candidate of requested.failover) {
    const target = policy.byName.get(candidate);
    if (target && !unusable(target, breaker)) {
      return { provider: target, failedOverFrom: { provider: requested.name, because } };
    }
  }
  // Nothing to fail over to: the request meets the requested provider's own refusal.
  return { provider: requested };
}
