// The sidecar's workload identity: the pod's projected tokens, the exchanges that turn them into
// provider credentials, the cache in front of them and the token endpoints behind their breakers.
// One per process, shared by every policy loaded (a reload keeps credentials that still apply).
import type { Logger } from 'pino';
import type { CompiledProvider, WorkloadIdentitySpec } from '../policy/compile.ts';
import { IdentityError } from './errors.ts';
import { credentialSecrets, type Exchange, type ExchangedCredential } from './exchanges/types.ts';
import { ProjectedTokens, type StaleTokenReport } from './projected-token.ts';
import { TokenCache, type CacheStats } from './token-cache.ts';
import { TokenEndpoints, type BreakerSettings } from './token-endpoint.ts';
import type { Resolver } from '../egress/resolver.ts';

// Loaded on first use: every injected pod has projected tokens, few use each exchange, and the
// sidecar's resident memory is paid in every pod (the AWS one brings an XML parser).
const EXCHANGES: Readonly<Record<string, Exchange>> = {
  azure: async (input) => (await import('./exchanges/azure.ts')).exchangeAzure(input),
  aws: async (input) => (await import('./exchanges/aws.ts')).exchangeAws(input),
  gcp: async (input) => (await import('./exchanges/gcp.ts')).exchangeGcp(input),
  'oauth2-token-exchange': async (input) =>
    (await import('./exchanges/oauth2-token-exchange.ts')).exchangeOAuth2(input),
};

/** How often every token file is re-read to report one the kubelet stopped refreshing. */
export const TOKEN_HEALTH_INTERVAL_MS = 30_000;

export interface WorkloadIdentityOptions {
  /** Audience → projected token file. */
  tokenFiles: ReadonlyMap<string, string>;
  resolver: Resolver;
  /** Names the session where the token service records one (the pod's name). */
  sessionName: string;
  logger?: Logger;
  now?: () => number;
  recheckMs?: number;
  breaker?: Partial<BreakerSettings>;
  selfPorts?: ReadonlySet<number>;
}

export class WorkloadIdentity {
  readonly tokens: ProjectedTokens;
  readonly #endpoints: TokenEndpoints;
  readonly #cache: TokenCache<ExchangedCredential>;
  readonly #options: WorkloadIdentityOptions;
  readonly #now: () => number;
  #health: NodeJS.Timeout | undefined;

  constructor(options: WorkloadIdentityOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const log = options.logger;
    this.tokens = new ProjectedTokens(options.tokenFiles, {
      now: this.#now,
      ...(options.recheckMs !== undefined && { recheckMs: options.recheckMs }),
      onStale: (report: StaleTokenReport) =>
        log?.warn(
          {
            event: 'projected_token_not_refreshed',
            audience: report.audience,
            file: report.file,
            state: report.state,
            expiresAt: new Date(report.expiresAt).toISOString(),
          },
          report.state === 'expired'
            ? `the projected token for ${report.audience} has expired: ${report.file} is no longer refreshed`
            : `the projected token for ${report.audience} is past 90% of its lifetime: ${report.file} is not being refreshed`,
        ),
    });
    this.#endpoints = new TokenEndpoints({
      resolver: options.resolver,
      ...(options.selfPorts && { selfPorts: options.selfPorts }),
      ...(options.breaker && { breaker: options.breaker }),
      onBreakerChange: (endpoint, state) =>
        log?.warn({ event: 'token_endpoint_breaker', endpoint, state }, `token endpoint breaker ${state}`),
    });
    this.#cache = new TokenCache({
      now: this.#now,
      onBackgroundFailure: (_key, err) =>
        log?.warn(
          {
            event: 'identity_refresh_failed',
            code: err instanceof IdentityError ? err.code : 'UNKNOWN',
            reason: (err as Error).message,
          },
          'refreshing a workload identity credential failed; the cached one stays in use until it expires',
        ),
    });
  }

  /** The audiences this pod has projected tokens for. */
  audiences(): string[] {
    return this.tokens.audiences();
  }

  /** The projected token for `audience` (exchange none, identity assertions). */
  async projectedToken(audience: string): Promise<string> {
    return (await this.tokens.read(audience)).token;
  }

  /** The exchanged credential for a workload-identity provider, from the cache when it is fresh. */
  credential(provider: CompiledProvider, spec: WorkloadIdentitySpec): Promise<ExchangedCredential> {
    const exchange = EXCHANGES[spec.exchange];
    if (!exchange) return Promise.reject(new Error(`exchange ${spec.exchange} yields no credential`));
    return this.#cache.get(cacheKey(spec), () => this.#exchange(exchange, provider, spec));
  }

  /** Every secret currently held (exchanged credentials, projected tokens read), for scrubbing. */
  secretValues(): string[] {
    return [...this.#cache.values().flatMap(credentialSecrets), ...this.tokens.currentTokens()];
  }

  stats(): CacheStats {
    return { ...this.#cache.stats };
  }

  /** Re-reads the token files every `intervalMs`, reporting files the kubelet stopped refreshing. */
  startHealthChecks(intervalMs = TOKEN_HEALTH_INTERVAL_MS): void {
    const check = (): void => {
      void this.tokens.check().then((states) => {
        for (const [audience, state] of states)
          if (state === 'TOKEN_UNREADABLE')
            this.#options.logger?.warn(
              { event: 'projected_token_unreadable', audience },
              `the projected token for ${audience} cannot be read`,
            );
      });
    };
    check();
    this.#health = setInterval(check, intervalMs);
    this.#health.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#health);
    await this.#endpoints.close();
  }

  async #exchange(
    exchange: Exchange,
    provider: CompiledProvider,
    spec: WorkloadIdentitySpec,
  ): Promise<ExchangedCredential> {
    const started = performance.now();
    const log = this.#options.logger;
    try {
      const credential = await exchange({
        provider,
        spec,
        subjectToken: await this.projectedToken(spec.audience),
        endpoints: this.#endpoints,
        now: this.#now,
        sessionName: this.#options.sessionName,
      });
      log?.info(
        {
          event: 'identity_exchanged',
          'chaperone.provider': provider.name,
          exchange: spec.exchange,
          expiresAt: new Date(credential.expiresAt).toISOString(),
          durationMs: Math.round(performance.now() - started),
        },
        `workload identity exchanged (${spec.exchange}) for provider ${provider.name}`,
      );
      return credential;
    } catch (err) {
      log?.warn(
        {
          event: 'identity_exchange_failed',
          'chaperone.provider': provider.name,
          exchange: spec.exchange,
          code: err instanceof IdentityError ? err.code : 'UNKNOWN',
          reason: (err as Error).message,
        },
        `workload identity exchange (${spec.exchange}) failed for provider ${provider.name}`,
      );
      throw err;
    }
  }
}

/** Providers with the same identity settings share one credential. */
function cacheKey(spec: WorkloadIdentitySpec): string {
  return JSON.stringify(Object.entries(spec).sort(([a], [b]) => a.localeCompare(b)));
}
