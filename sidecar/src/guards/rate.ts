// Requests and tokens per minute per provider, with reservations: a request reserves one request
// and its estimated tokens before the call (so concurrent requests cannot overshoot a limit
// together) and settles with the tokens the response's usage reports after it. The cost-burst
// guard compares the rate with guards.costBurst.tokensPerMinute or, when that is not set, with
// the workload's own recent baseline. The minute is sliding, approximated by the current and the
// previous fixed minute weighted by overlap, as most rate limiters do.
import type { ProviderSpec } from '../../../api/src/policy/index.ts';
import { ALLOW, fired, stronger, type GuardDecision, type GuardPolicy } from './policy.ts';

const MINUTE = 60_000;
/** Completed minutes the baseline averages over. */
const BASELINE_MINUTES = 15;
/** Minutes of history before a baseline is trusted. */
const BASELINE_MIN_MINUTES = 5;
/** A rate this many times the baseline is a burst ... */
export const BURST_FACTOR = 10;
/** ... and never below this many tokens per minute. */
export const BURST_FLOOR = 10_000;

interface Window {
  start: number;
  requests: number;
  tokens: number;
  previousRequests: number;
  previousTokens: number;
  /** Reserved, not settled yet. */
  pendingRequests: number;
  pendingTokens: number;
  /** Token totals of the last completed minutes, oldest first. */
  history: number[];
}

export interface Reservation {
  readonly provider: string;
  readonly tokens: number;
  done: boolean;
}

export interface ProviderLimits {
  name: string;
  /** Field path of the provider, for the rule: `spec.providers[0]`. */
  rule: string;
  limits: Pick<ProviderSpec['limits'], 'requestsPerMinute' | 'tokensPerMinute'>;
}

export interface ReserveResult {
  decision: GuardDecision;
  /** Present when the request may go (allowed, or let through in Report): settle or release it. */
  reservation: Reservation | undefined;
}

export class RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #window(provider: string): Window {
    const now = this.#now();
    const start = now - (now % MINUTE);
    let w = this.#windows.get(provider);
    if (!w) {
      w = {
        start,
        requests: 0,
        tokens: 0,
        previousRequests: 0,
        previousTokens: 0,
        pendingRequests: 0,
        pendingTokens: 0,
        history: [],
      };
      this.#windows.set(provider, w);
    } else if (w.start !== start) {
      const elapsed = Math.min(BASELINE_MINUTES, (start - w.start) / MINUTE);
      w.history.push(w.tokens);
      for (let i = 1; i < elapsed; i++) w.history.push(0); // idle minutes
      if (w.history.length > BASELINE_MINUTES) w.history.splice(0, w.history.length - BASELINE_MINUTES);
      const adjacent = start - w.start === MINUTE;
      w.previousRequests = adjacent ? w.requests : 0;
      w.previousTokens = adjacent ? w.tokens : 0;
      w.requests = 0;
      w.tokens = 0;
      w.start = start;
    }
    return w;
  }

  /** Requests and tokens over the last minute, reservations included (decide()'s UsageView). */
  current(provider: string): { requests: number; tokens: number } {
    const w = this.#window(provider);
    const weight = 1 - (this.#now() - w.start) / MINUTE;
    return {
      requests: w.requests + w.pendingRequests + Math.floor(w.previousRequests * weight),
      tokens: w.tokens + w.pendingTokens + Math.floor(w.previousTokens * weight),
    };
  }

  /** Average tokens per minute over the recent completed minutes, once there are enough of them. */
  baseline(provider: string): number | undefined {
    const history = this.#window(provider).history;
    if (history.length < BASELINE_MIN_MINUTES) return undefined;
    return history.reduce((a, b) => a + b, 0) / history.length;
  }

  /**
   * Reserves one request and `estimatedTokens` for `provider`, or refuses (RATE_LIMITED, 429).
   * Synchronous, so no two requests can both take the last of a budget.
   */
  reserve(policy: GuardPolicy, provider: ProviderLimits, estimatedTokens: number): ReserveResult {
    const tokens = Math.max(0, Math.ceil(estimatedTokens));
    const used = this.current(provider.name);
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = provider.limits;
    let decision = ALLOW;
    if (rpm !== undefined && used.requests + 1 > rpm) {
      decision = fired(
        policy,
        true,
        'RATE_LIMITED',
        `requests per minute ${rpm} reached for provider ${provider.name}`,
        `${provider.rule}.limits.requestsPerMinute`,
      );
    } else if (tpm !== undefined && used.tokens + tokens > tpm) {
      decision = fired(
        policy,
        true,
        'RATE_LIMITED',
        tokens > tpm
          ? `the request is estimated at ${tokens} tokens, more than the ${tpm} tokens per minute of provider ${provider.name}`
          : `tokens per minute ${tpm} reached for provider ${provider.name}`,
        `${provider.rule}.limits.tokensPerMinute`,
      );
    }
    decision = stronger(decision, this.#burst(policy, provider.name, used.tokens + tokens));
    if (decision.result === 'deny') return { decision, reservation: undefined };
    const w = this.#window(provider.name);
    w.pendingRequests++;
    w.pendingTokens += tokens;
    return { decision, reservation: { provider: provider.name, tokens, done: false } };
  }

  #burst(policy: GuardPolicy, provider: string, rate: number): GuardDecision {
    const { action, tokensPerMinute } = policy.costBurst;
    if (action === 'Off') return ALLOW;
    const base = this.baseline(provider);
    const threshold =
      tokensPerMinute ?? (base === undefined ? undefined : Math.max(BURST_FLOOR, base * BURST_FACTOR));
    if (threshold === undefined || rate <= threshold) return ALLOW;
    const why =
      tokensPerMinute !== undefined
        ? `${tokensPerMinute} tokens per minute`
        : `${BURST_FACTOR}× the recent baseline of ${Math.round(base!)} tokens per minute`;
    return fired(
      policy,
      action === 'Block',
      'RATE_LIMITED',
      `token burst: ${rate} tokens per minute for provider ${provider} exceeds ${why}`,
      'spec.guards.costBurst',
    );
  }

  /** The call was made: the request counts, with the tokens its usage reported (else the estimate). */
  settle(reservation: Reservation, actualTokens?: number): void {
    if (reservation.done) return;
    reservation.done = true;
    const w = this.#window(reservation.provider);
    w.pendingRequests--;
    w.pendingTokens -= reservation.tokens;
    w.requests++;
    w.tokens +=
      actualTokens !== undefined && Number.isFinite(actualTokens)
        ? Math.max(0, actualTokens)
        : reservation.tokens;
  }

  /** The call was not made (refused later, or the provider was never reached): nothing counts. */
  release(reservation: Reservation): void {
    if (reservation.done) return;
    reservation.done = true;
    const w = this.#window(reservation.provider);
    w.pendingRequests--;
    w.pendingTokens -= reservation.tokens;
  }
}
