// Every time limit of the data plane, in one place. The first-byte limit of a provider is its
// circuitBreaker.timeoutSeconds (the schema's "a request that takes longer counts as a failure").

export interface Timeouts {
  /** DNS resolution plus TCP and TLS handshakes to a provider. */
  connectMs: number;
  /** From the request being sent to the response headers, when the provider sets no breaker timeout. */
  firstByteMs: number;
  /** Longest silence between two chunks of a response body, or on a CONNECT tunnel. */
  idleMs: number;
  /** Longest wait for the app's request body (or its TLS ClientHello on a tunnel). */
  clientMs: number;
  /** Idle keep-alive connections to providers are closed after this long. */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  connectMs: 5_000,
  firstByteMs: 60_000,
  idleMs: 120_000,
  clientMs: 30_000,
  keepAliveMs: 30_000,
};

/** Time to the response headers for a provider: its breaker timeout, else the default. */
export function firstByteMs(timeouts: Timeouts, breakerTimeoutSeconds: number | undefined): number {
  return breakerTimeoutSeconds === undefined ? timeouts.firstByteMs : breakerTimeoutSeconds * 1000;
}
