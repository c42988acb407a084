// Exchanged credentials, cached until shortly before they expire. One exchange per key at a time:
// concurrent callers share it (single flight). A credential inside its refresh window is still
// served while one refresh runs in the background, so steady traffic never waits on the token
// endpoint; only a missing or (nearly) expired credential makes callers wait.
export interface Expiring {
  /** Epoch ms. */
  expiresAt: number;
}

/** Refresh this long before expiry: 5 minutes, or a quarter of a shorter lifetime. */
export function refreshWindowMs(lifetimeMs: number): number {
  return Math.min(300_000, Math.max(0, lifetimeMs) / 4);
}

/** A credential this close to expiry is never handed out (a request could outlive it). */
export const CREDENTIAL_EXPIRY_SKEW_MS = 30_000;

export interface CacheStats {
  /** Served from the cache. */
  hits: number;
  /** Waited for an exchange (first use, or the cached one had expired). */
  misses: number;
  /** Exchanges started (foreground and background). */
  exchanges: number;
  /** Exchanges that failed. */
  failures: number;
}

interface Entry<T> {
  value: T | undefined;
  refreshAt: number;
  inflight: Promise<T> | undefined;
}

export interface TokenCacheOptions {
  now?: () => number;
  /** A background refresh failed; the cached credential stays in use until it expires. */
  onBackgroundFailure?: (key: string, err: unknown) => void;
}

export class TokenCache<T extends Expiring> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #now: () => number;
  readonly #onBackgroundFailure: TokenCacheOptions['onBackgroundFailure'];
  readonly stats: CacheStats = { hits: 0, misses: 0, exchanges: 0, failures: 0 };

  constructor(options: TokenCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#onBackgroundFailure = options.onBackgroundFailure;
  }

  /** The credential for `key`, exchanging with `fetch` when there is no usable one. */
  async get(key: string, fetch: () => Promise<T>): Promise<T> {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { value: undefined, refreshAt: 0, inflight: undefined };
      this.#entries.set(key, entry);
    }
    const now = this.#now();
    const usable = entry.value !== undefined && now < entry.value.expiresAt - CREDENTIAL_EXPIRY_SKEW_MS;
    if (usable) {
      this.stats.hits++;
      if (now >= entry.refreshAt && !entry.inflight)
        this.#start(entry, fetch).catch((err: unknown) => this.#onBackgroundFailure?.(key, err));
      return entry.value!;
    }
    this.stats.misses++;
    return entry.inflight ?? this.#start(entry, fetch);
  }

  /** Every credential currently cached (the values the proxy must never echo to the app). */
  values(): T[] {
    const out: T[] = [];
    for (const entry of this.#entries.values()) if (entry.value !== undefined) out.push(entry.value);
    return out;
  }

  /** Forgets credentials whose key is not in `keep` (a policy change removed their provider). */
  retain(keep: ReadonlySet<string>): void {
    for (const key of this.#entries.keys()) if (!keep.has(key)) this.#entries.delete(key);
  }

  #start(entry: Entry<T>, fetch: () => Promise<T>): Promise<T> {
    this.stats.exchanges++;
    const startedAt = this.#now();
    const inflight = fetch().then(
      (value) => {
        entry.value = value;
        entry.refreshAt = value.expiresAt - refreshWindowMs(value.expiresAt - startedAt);
        return value;
      },
      (err: unknown) => {
        this.stats.failures++;
        throw err;
      },
    );
    entry.inflight = inflight;
    void inflight.then(
      () => (entry.inflight = undefined),
      () => (entry.inflight = undefined),
    );
    return inflight;
  }
}
