// HTTPS calls to token services (Entra ID, AWS STS, Google STS and IAM Credentials, RFC 8693
// gateways). They leave through the same checked connector as provider traffic (one name lookup,
// every address checked against the provider's allowedCIDRs, TLS to the host name), trust the
// public roots plus the provider's caBundle, and each endpoint sits behind its own breaker: a token
// service that keeps failing is not hammered by every request, and refusals come back at once.
import { createRequire } from 'node:module';
import CircuitBreaker from 'opossum';
import { isRefusal } from '../../../api/src/refusals.ts';
import type { Dispatcher } from 'undici';
import { tls } from '../builtins.ts';
import { checkedConnector } from '../egress/connector.ts';
import type { Resolver } from '../egress/resolver.ts';
import type { CompiledProvider } from '../policy/compile.ts';
import { Pool } from '../proxy/undici.ts';
import { COUNTS_ONLY } from '../proxy/upstreams.ts';
import { IdentityError } from './errors.ts';

const require = createRequire(import.meta.url);
// undici's request() on its own, like proxy/undici.ts loads Pool: it only needs `this.dispatch`.
const undiciRequest = require('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

export interface TokenRequest {
  url: string;
  /** application/x-www-form-urlencoded fields, or a JSON body. */
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface TokenResponse {
  status: number;
  body: string;
}

export interface BreakerSettings {
  timeoutMs: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetMs: number;
}

/** Exchanges are rare (once per credential lifetime), so a few failures in a row say enough. */
export const DEFAULT_TOKEN_BREAKER: BreakerSettings = {
  timeoutMs: 10_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 3,
  resetMs: 15_000,
};

const MAX_RESPONSE_BYTES = 65_536;

export interface TokenEndpointsOptions {
  resolver: Resolver;
  selfPorts?: ReadonlySet<number>;
  breaker?: Partial<BreakerSettings>;
  onBreakerChange?: (endpoint: string, state: 'open' | 'half-open' | 'closed') => void;
}

/** A token endpoint's answer that says nothing about its health (4xx): not counted by the breaker. */
class RefusedByEndpoint extends Error {
  readonly response: TokenResponse;
  constructor(response: TokenResponse) {
    super(`status ${response.status}`);
    this.response = response;
  }
}

export class TokenEndpoints {
  readonly #options: TokenEndpointsOptions;
  readonly #settings: BreakerSettings;
  readonly #pools = new Map<string, Pool>();
  readonly #breakers = new Map<string, CircuitBreaker<[() => Promise<TokenResponse>], TokenResponse>>();

  constructor(options: TokenEndpointsOptions) {
    this.#options = options;
    this.#settings = { ...DEFAULT_TOKEN_BREAKER, ...options.breaker };
  }

  /**
   * POSTs to a token endpoint on behalf of `provider`. Resolves with 2xx and 4xx answers (the
   * caller reads the OAuth error); rejects with IdentityError when the endpoint cannot be reached,
   * fails (5xx), times out, or its breaker is open.
   */
  async post(provider: CompiledProvider, request: TokenRequest): Promise<TokenResponse> {
    const url = new URL(request.url);
    const endpoint = `${url.origin}${url.pathname}`;
    const breaker = this.#breaker(endpoint);
    try {
      return await breaker.fire(() => this.#send(provider, url, request));
    } catch (err) {
      if (err instanceof RefusedByEndpoint) return err.response;
      if (breaker.opened && (err as { code?: string }).code === 'EOPENBREAKER')
        throw new IdentityError(
          'TOKEN_ENDPOINT_CIRCUIT_OPEN',
          `the token endpoint ${endpoint} failed repeatedly; its breaker is open`,
          { cause: err },
        );
      if (err instanceof IdentityError) throw err;
      if (isRefusal(err))
        throw new IdentityError(
          'TOKEN_ENDPOINT_FAILED',
          `the token endpoint ${endpoint} is not an allowed destination: ${err.reason}`,
          { cause: err },
        );
      const reason =
        (err as { code?: string }).code === 'ETIMEDOUT'
          ? `did not answer within ${this.#settings.timeoutMs} ms`
          : `could not be reached (${(err as { code?: string }).code ?? (err as Error).message})`;
      throw new IdentityError('TOKEN_ENDPOINT_FAILED', `the token endpoint ${endpoint} ${reason}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    for (const breaker of this.#breakers.values()) breaker.shutdown();
    this.#breakers.clear();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  #breaker(endpoint: string): CircuitBreaker<[() => Promise<TokenResponse>], TokenResponse> {
    let breaker = this.#breakers.get(endpoint);
    if (breaker) return breaker;
    const s = this.#settings;
    breaker = new CircuitBreaker((call: () => Promise<TokenResponse>) => call(), {
      timeout: s.timeoutMs,
      errorThresholdPercentage: s.errorThresholdPercentage,
      volumeThreshold: s.volumeThreshold,
      resetTimeout: s.resetMs,
      rollingCountTimeout: 60_000,
      rollingCountBuckets: 6,
      // A 4xx is the endpoint working (and refusing): a configuration problem, not an outage.
      errorFilter: (err: unknown) => err instanceof RefusedByEndpoint,
      name: endpoint,
      ...COUNTS_ONLY,
    });
    const notify = (state: 'open' | 'half-open' | 'closed') => (): void =>
      this.#options.onBreakerChange?.(endpoint, state);
    breaker.on('open', notify('open'));
    breaker.on('halfOpen', notify('half-open'));
    breaker.on('close', notify('closed'));
    this.#breakers.set(endpoint, breaker);
    return breaker;
  }

  #pool(provider: CompiledProvider, origin: string): Pool {
    const id = JSON.stringify([origin, provider.connectionKey]);
    let pool = this.#pools.get(id);
    if (pool) return pool;
    pool = new Pool(origin, {
      connections: 4,
      headersTimeout: this.#settings.timeoutMs,
      bodyTimeout: this.#settings.timeoutMs,
      connect: checkedConnector({
        resolver: this.#options.resolver,
        allowed: provider.allowedCidrs,
        // The public roots stay trusted: a private gateway's CA must not cut off a public token service.
        ca:
          provider.caBundle === undefined
            ? undefined
            : [...tls.rootCertificates, provider.caBundle].join('\n'),
        selfPorts: this.#options.selfPorts ?? new Set(),
        connectTimeoutMs: this.#settings.timeoutMs,
        provider: provider.name,
      }),
    });
    this.#pools.set(id, pool);
    return pool;
  }

  async #send(provider: CompiledProvider, url: URL, request: TokenRequest): Promise<TokenResponse> {
    const body =
      request.form !== undefined
        ? new URLSearchParams(request.form).toString()
        : request.json !== undefined
          ? JSON.stringify(request.json)
          : undefined;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'chaperone-proxy',
      ...(request.form !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
      ...(request.json !== undefined && { 'content-type': 'application/json' }),
      ...request.headers,
    };
    const response = await undiciRequest.call(this.#pool(provider, url.origin), {
      method: 'POST',
      path: `${url.pathname}${url.search}`,
      headers,
      body: body ?? null,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        throw new IdentityError(
          'EXCHANGE_REFUSED',
          `the token endpoint ${url.origin}${url.pathname} answered more than ${MAX_RESPONSE_BYTES} bytes`,
        );
      }
      chunks.push(chunk);
    }
    const answer = { status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') };
    if (answer.status >= 500)
      throw new IdentityError(
        'TOKEN_ENDPOINT_FAILED',
        `the token endpoint ${url.origin}${url.pathname} answered ${answer.status}`,
      );
    if (answer.status >= 300) throw new RefusedByEndpoint(answer);
    return answer;
  }
}
