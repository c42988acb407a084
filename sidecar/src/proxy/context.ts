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
  active: ActiveExchanges;
  onDial?: (host: string, address: ResolvedAddress) => void;
}

/**
 * The exchanges in flight, which a policy change re-judges. Each is held in a slot that is emptied
 * when it is taken out: a JavaScript Set keeps members it no longer has reachable for V8's
 * young-generation collector until the next full collection (a long-lived Set of short-lived
 * members, alone: 2 MB promoted a scavenge; 3 KB when each member lets go of its payload once
 * deleted). Through `cut`, a member reaches its whole exchange, which was promoted with it
 * (docs/sidecar.md, "What the scavenges promote").
 */
export class ActiveExchanges implements Iterable<ActiveExchange> {
  readonly #slots = new Set<{ entry: ActiveExchange | undefined }>();

  /** Adds an exchange; the function returned takes it out (once, when the exchange is over). */
  add(entry: ActiveExchange): () => void {
    const slot: { entry: ActiveExchange | undefined } = { entry };
    this.#slots.add(slot);
    return () => {
      this.#slots.delete(slot);
      slot.entry = undefined;
    };
  }

  get size(): number {
    return this.#slots.size;
  }

  *[Symbol.iterator](): Iterator<ActiveExchange> {
    for (const { entry } of this.#slots) if (entry) yield entry;
  }
}

/** Re-judges every exchange in flight against a new policy; cuts those it now denies. */
export function enforceOnActive(active: ActiveExchanges, policy: CompiledPolicy | null): number {
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
