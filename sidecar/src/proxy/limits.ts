// Per-provider request and token counts over the last minute (a sliding window approximated by two
// fixed one-minute windows, as most rate limiters do). decide() reads them; the proxy records.
import type { UsageView } from '../policy/decide.ts';

const WINDOW_MS = 60_000;

interface Counts {
  windowStart: number;
  requests: number;
  tokens: number;
  previousRequests: number;
  previousTokens: number;
}

export class UsageCounters implements UsageView {
  readonly #counts = new Map<string, Counts>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #roll(provider: string): Counts {
    const now = this.#now();
    const start = now - (now % WINDOW_MS);
    let counts = this.#counts.get(provider);
    if (!counts) {
      counts = { windowStart: start, requests: 0, tokens: 0, previousRequests: 0, previousTokens: 0 };
      this.#counts.set(provider, counts);
    } else if (counts.windowStart !== start) {
      const adjacent = start - counts.windowStart === WINDOW_MS;
      counts.previousRequests = adjacent ? counts.requests : 0;
      counts.previousTokens = adjacent ? counts.tokens : 0;
      counts.requests = 0;
      counts.tokens = 0;
      counts.windowStart = start;
    }
    return counts;
  }

  current(provider: string): { requests: number; tokens: number } {
    const counts = this.#roll(provider);
    const weight = 1 - (this.#now() - counts.windowStart) / WINDOW_MS;
    return {
      requests: counts.requests + Math.floor(counts.previousRequests * weight),
      tokens: counts.tokens + Math.floor(counts.previousTokens * weight),
    };
  }

  recordRequest(provider: string): void {
    this.#roll(provider).requests++;
  }

  recordTokens(provider: string, tokens: number): void {
    if (tokens > 0) this.#roll(provider).tokens += tokens;
  }
}
