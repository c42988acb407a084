// Upstream connections and breakers. One undici Pool per (provider, origin), dialled through the
// checked connector with the provider's allowedCIDRs and caBundle; one opossum breaker per provider.
// Policy reloads keep pools and breakers whose settings did not change, and close the others once
// their in-flight requests finish.
import CircuitBreaker from 'opossum';
import { Pool } from './undici.ts';
import { isRefusal } from '../../../api/src/refusals.ts';
import { checkedConnector } from '../egress/connector.ts';
import type { ResolvedAddress, Resolver } from '../egress/resolver.ts';
import type { CompiledPolicy, CompiledProvider } from '../policy/compile.ts';
import { firstByteMs, type Timeouts } from './timeouts.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A function the breaker runs; resolves once the response headers are in. */
export type Attempt = () => Promise<unknown>;

export interface UpstreamsOptions {
  resolver: Resolver;
  timeouts: Timeouts;
  selfPorts: ReadonlySet<number>;
  connectionsPerOrigin: number;
  onDial?: (host: string, address: ResolvedAddress) => void;
  onBreakerChange?: (provider: string, state: BreakerState) => void;
}

interface PoolEntry {
  pool: Pool;
  key: string;
}

interface BreakerEntry {
  breaker: CircuitBreaker<[Attempt], unknown>;
  key: string;
}

/**
 * Outcome counting only. opossum's defaults also keep every call's latency and, on each snapshot
 * (every bucket) and on each failure, concatenate and sort the whole window's latencies: ~10,000
 * numbers sorted per failure at 1000 rps — stalls exactly when a provider degrades.
 */
export const COUNTS_ONLY = { rollingPercentilesEnabled: false, enableSnapshots: false } as const;

/** Report-mode destinations outside every provider get pools too; bounded. */
const MAX_UNMATCHED_POOLS = 64;

export class Upstreams {
  readonly #options: UpstreamsOptions;
  readonly #pools = new Map<string, PoolEntry>();
  readonly #breakers = new Map<string, BreakerEntry>();
  #policyName: string | null = null;

  constructor(options: UpstreamsOptions) {
    this.#options = options;
  }

  /** Aligns pools and breakers with a newly loaded policy. */
  sync(policy: CompiledPolicy): void {
    this.#policyName = policy.name;
    const keys = new Map(policy.providers.map((p) => [p.name, p.connectionKey]));
    for (const [id, entry] of this.#pools) {
      const provider = id.slice(0, id.indexOf('|'));
      if (provider !== '' && keys.get(provider) !== entry.key) this.#retirePool(id);
    }
    for (const [name, entry] of this.#breakers) {
      const provider = policy.byName.get(name);
      if (!provider || breakerKey(provider) !== entry.key) {
        entry.breaker.shutdown();
        this.#breakers.delete(name);
      }
    }
    for (const provider of policy.providers) this.breaker(provider);
  }

  /** The pool for `origin` reached on behalf of `provider` (null: Report mode, no provider matched). */
  pool(provider: CompiledProvider | null, origin: string): Pool {
    const id = `${provider?.name ?? ''}|${origin}`;
    const key = provider?.connectionKey ?? '';
    const existing = this.#pools.get(id);
    if (existing && existing.key === key) return existing.pool;
    if (existing) this.#retirePool(id);
    if (!provider && this.#pools.size >= MAX_UNMATCHED_POOLS) {
      const oldest = [...this.#pools.keys()].find((k) => k.startsWith('|'));
      if (oldest) this.#retirePool(oldest);
    }
    const { timeouts } = this.#options;
    const pool = new Pool(origin, {
      connections: this.#options.connectionsPerOrigin,
      pipelining: 1,
      headersTimeout: firstByteMs(timeouts, provider?.breaker.timeoutSeconds),
      bodyTimeout: timeouts.idleMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connect: checkedConnector({
        resolver: this.#options.resolver,
        allowed: provider?.allowedCidrs,
        ca: provider?.caBundle,
        selfPorts: this.#options.selfPorts,
        connectTimeoutMs: timeouts.connectMs,
        policy: this.#policyName,
        provider: provider?.name ?? null,
        ...(this.#options.onDial ? { onDial: this.#options.onDial } : {}),
      }),
    });
    this.#pools.set(id, { pool, key });
    return pool;
  }

  breaker(provider: CompiledProvider): CircuitBreaker<[Attempt], unknown> {
    const key = breakerKey(provider);
    const existing = this.#breakers.get(provider.name);
    if (existing && existing.key === key) return existing.breaker;
    existing?.breaker.shutdown();
    const { breaker: settings } = provider;
    const breaker = new CircuitBreaker<[Attempt], unknown>((attempt) => attempt(), {
      // Time limits are undici's (connect, first byte, idle): opossum only counts outcomes.
      timeout: false,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      volumeThreshold: settings.volumeThreshold,
      resetTimeout: settings.resetSeconds * 1000,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      // Refusals (a destination the policy does not allow) say nothing about the provider's health.
      errorFilter: (err: unknown) => isRefusal(err),
      name: provider.name,
      ...COUNTS_ONLY,
    });
    const notify = (state: BreakerState) => (): void => this.#options.onBreakerChange?.(provider.name, state);
    breaker.on('open', notify('open'));
    breaker.on('halfOpen', notify('half-open'));
    breaker.on('close', notify('closed'));
    this.#breakers.set(provider.name, { breaker, key });
    return breaker;
  }

  /** One provider's breaker state (undefined: no breaker yet, i.e. never called). */
  state(provider: string): BreakerState | undefined {
    const entry = this.#breakers.get(provider);
    return entry ? stateOf(entry.breaker) : undefined;
  }

  states(): Map<string, BreakerState> {
    const states = new Map<string, BreakerState>();
    for (const [name, { breaker }] of this.#breakers) states.set(name, stateOf(breaker));
    return states;
  }

  #retirePool(id: string): void {
    const entry = this.#pools.get(id);
    if (!entry) return;
    this.#pools.delete(id);
    entry.pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const { breaker } of this.#breakers.values()) breaker.shutdown();
    this.#breakers.clear();
    const pools = [...this.#pools.values()].map((e) => e.pool);
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

const breakerKeys = new WeakMap<CompiledProvider, string>();

/** The breaker settings as a key, computed once per compiled provider (this is on every request). */
function breakerKey(provider: CompiledProvider): string {
  let key = breakerKeys.get(provider);
  if (key === undefined) {
    key = JSON.stringify(provider.breaker);
    breakerKeys.set(provider, key);
  }
  return key;
}

export function stateOf(breaker: CircuitBreaker<[Attempt], unknown>): BreakerState {
  if (breaker.opened) return 'open';
  if (breaker.halfOpen) return 'half-open';
  return 'closed';
}
