// What the listeners share: the current policy, the upstream pools and breakers, the rate limiter,
// the observer that audits every exchange, and the exchanges in flight (so a policy change — a kill
// switch above all — cuts what it now forbids at once, tunnels and open streams included).
import { RefusalError } from '../../../api/src/refusals.ts';
import type { CredentialSource } from '../credentials/source.ts';
import type { Resolver, ResolvedAddress } from '../egress/resolver.ts';
import type { GuardPolicy } from '../guards/policy.ts';
import type { RateLimiter } from '../guards/rate.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { decide, type RequestFacts } from '../policy/decide.ts';
import type { Exchange } from './exchange.ts';
import type { Timeouts } from './timeouts.ts';
import type { Upstreams } from './upstreams.ts';

export interface LoadedPolicy {
  policy: CompiledPolicy;
  credentials: CredentialSource;
  /** The data boundary and runtime guards of the policy (sidecar/src/guards). */
  guards?: GuardPolicy;
}

export interface PolicySource {
  current(): LoadedPolicy | null;
}

export interface ExchangeObserver {
  /** Called once per exchange, when it is over. */
  finished(exchange: Exchange): void;
}

export interface ActiveExchange {
  exchange: Exchange;
  facts: RequestFacts;
  cut(refusal: RefusalError): void;
}

export interface ProxyContext {
  policies: PolicySource;
  upstreams: Upstreams;
  /** Requests and tokens per provider (one per sidecar: counts survive policy changes); decide()'s UsageView. */
  usage: RateLimiter;
  observer: ExchangeObserver;
  timeouts: Timeouts;
  resolver: Resolver;
  selfPorts: ReadonlySet<number>;
  active: Set<ActiveExchange>;
  onDial?: (host: string, address: ResolvedAddress) => void;
}

/** Re-judges every exchange in flight against a new policy; cuts those it now denies. */
export function enforceOnActive(active: Set<ActiveExchange>, policy: CompiledPolicy | null): number {
  let cut = 0;
  for (const entry of active) {
    const decision = decide(policy, entry.facts);
    if (decision.result !== 'deny' || decision.code === null) continue;
    cut++;
    entry.cut(
      new RefusalError(decision.code, `${decision.reason} (the policy changed while this was in flight)`, {
        rule: decision.rule,
        policy: policy?.name ?? null,
        provider: decision.provider?.name ?? entry.exchange.provider?.name ?? null,
      }),
    );
  }
  return cut;
}
