// Builds a running sidecar from its parts: three node:http listeners (provider endpoints, forward
// proxy, admin), the shared proxy context, the audit observer and the metrics. main.ts calls this
// with what it read from flags and env; tests and the benchmark call it in-process.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from './builtins.ts';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { RefusalError } from '../../api/src/refusals.ts';
import { adminHandler } from './admin/server.ts';
import { Metrics } from './admin/metrics.ts';
import { RateLimiter } from './guards/rate.ts';
import { auditMessage, auditRecord } from './audit/audit.ts';
import { auditWriter } from './audit/log.ts';
import type { PolicyStore } from './config/store.ts';
import { egressRefusal } from './egress/refuse.ts';
import { systemResolver, type ResolvedAddress, type Resolver } from './egress/resolver.ts';
import { ActiveExchanges, enforceOnActive, type ProxyContext } from './proxy/context.ts';
import { handleEndpointRequest } from './proxy/endpoint.ts';
import { newExchange, type Exchange } from './proxy/exchange.ts';
import { handleForwardRequest } from './proxy/forward.ts';
import { DEFAULT_TIMEOUTS, type Timeouts } from './proxy/timeouts.ts';
import { handleConnect, refuseOnSocket } from './proxy/tunnel.ts';
import { Upstreams } from './proxy/upstreams.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface SidecarOptions {
  store: PolicyStore;
  logger: Logger;
  listen: { providers: ListenAddress; forwardProxy: ListenAddress; admin: ListenAddress };
  resolver?: Resolver;
  timeouts?: Partial<Timeouts>;
  /** Upstream connections per provider origin (undici Pool size). */
  connectionsPerOrigin?: number;
  /** Process metrics (RSS, event loop lag, ...) in /metrics; off for in-process test sidecars. */
  processMetrics?: boolean;
  onDial?: (host: string, address: ResolvedAddress) => void;
  /** Every finished exchange (after audit and metrics): the controller reporter counts refusals. */
  onExchange?: (exchange: Exchange) => void;
}

export interface RunningSidecar {
  ports: { providers: number; forwardProxy: number; admin: number };
  /** Circuit breaker state per provider. */
  breakers(): Map<string, string>;
  metrics: Metrics;
  context: ProxyContext;
  close(): Promise<void>;
}

function listen(server: Server, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Tracks every socket (CONNECT tunnels leave the HTTP server's own bookkeeping). */
function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

function close(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

function countActive(active: ActiveExchanges): { requests: number; tunnels: number } {
  let tunnels = 0;
  for (const entry of active) if (entry.exchange.via === 'connect') tunnels++;
  return { requests: active.size - tunnels, tunnels };
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const { store, logger } = options;
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const selfPorts = new Set<number>();
  const active = new ActiveExchanges();
  const resolver = options.resolver ?? systemResolver;
  const upstreams = new Upstreams({
    resolver,
    timeouts,
    selfPorts,
    connectionsPerOrigin: options.connectionsPerOrigin ?? 32,
    ...(options.onDial ? { onDial: options.onDial } : {}),
    onBreakerChange: (provider, state) =>
      logger.warn(
        { event: 'circuit_breaker', 'chaperone.provider': provider, state },
        `circuit breaker ${state}`,
      ),
  });
  const metrics = new Metrics(
    {
      breakers: () => upstreams.states(),
      policy: () => ({ generation: store.generation, loaded: store.current() !== null }),
      active: () => countActive(active),
    },
    { processMetrics: options.processMetrics ?? true },
  );
  const usage = new RateLimiter();
  const audit = auditWriter(logger.child({ component: 'audit' }));
  const context: ProxyContext = {
    policies: store,
    upstreams,
    usage,
    timeouts,
    resolver,
    selfPorts,
    active,
    ...(options.onDial ? { onDial: options.onDial } : {}),
    observer: {
      finished(exchange: Exchange): void {
        const refused = exchange.result === 'deny' || exchange.interrupted !== undefined;
        audit(refused ? 'warn' : 'info', auditRecord(exchange), auditMessage(exchange));
        metrics.observe(exchange);
        options.onExchange?.(exchange);
      },
    },
  };

  const current = store.current();
  if (current) upstreams.sync(current.policy);
  store.onChange((loaded) => {
    upstreams.sync(loaded.policy);
    const cut = enforceOnActive(active, loaded.policy);
    if (cut > 0)
      logger.warn(
        { event: 'policy_enforced_in_flight', cut },
        `policy change cut ${cut} exchange(s) in flight`,
      );
  });

  const badRequest = (err: Error & { code?: string }, socket: Duplex): void => {
    const exchange = newExchange('endpoint', 'UNKNOWN');
    exchange.policy = store.current()?.policy.name ?? null;
    if (socket.writable)
      refuseOnSocket(
        socket,
        exchange,
        new RefusalError(
          'BAD_REQUEST',
          `the request could not be parsed as HTTP/1.1 (${err.code ?? err.message})`,
          {
            rule: 'http',
          },
        ),
      );
    else socket.destroy();
    context.observer.finished(exchange);
  };
  const serverOptions = {
    noDelay: true,
    keepAliveTimeout: 65_000,
    headersTimeout: timeouts.clientMs,
    requestTimeout: 0,
    // The endpoints ignore Host and the forward proxy checks it against the target itself, so a
    // missing one takes the same JSON refusal path as everything else rather than Node's bare 400.
    requireHostHeader: false,
  };

  const providers = http.createServer(serverOptions, (req: IncomingMessage, res: ServerResponse) =>
    handleEndpointRequest(context, req, res),
  );
  providers.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const exchange = newExchange('endpoint', 'CONNECT');
    refuseOnSocket(
      socket,
      exchange,
      egressRefusal(
        'malformed-target',
        'CONNECT goes to the forward proxy port, not to the provider endpoints',
      ),
    );
    context.observer.finished(exchange);
  });
  providers.on('clientError', badRequest);

  const forward = http.createServer(serverOptions, (req: IncomingMessage, res: ServerResponse) =>
    handleForwardRequest(context, req, res),
  );
  forward.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handleConnect(context, req, socket, head),
  );
  forward.on('clientError', badRequest);

  const ports: RunningSidecar['ports'] = { providers: 0, forwardProxy: 0, admin: 0 };
  const admin = http.createServer(
    adminHandler({
      metrics,
      ready: () => store.current() !== null,
      status: () => statusDocument(store, upstreams, active, ports),
    }),
  );

  const providerSockets = trackSockets(providers);
  const forwardSockets = trackSockets(forward);
  const adminSockets = trackSockets(admin);
  ports.providers = await listen(providers, options.listen.providers);
  ports.forwardProxy = await listen(forward, options.listen.forwardProxy);
  ports.admin = await listen(admin, options.listen.admin);
  for (const port of Object.values(ports)) selfPorts.add(port);

  return {
    ports,
    metrics,
    context,
    breakers: () => upstreams.states(),
    async close() {
      for (const entry of active)
        entry.cut(new RefusalError('UPSTREAM_ERROR', 'the sidecar is shutting down'));
      await Promise.all([
        close(providers, providerSockets),
        close(forward, forwardSockets),
        close(admin, adminSockets),
      ]);
      await upstreams.close();
    },
  };
}

function statusDocument(
  store: PolicyStore,
  upstreams: Upstreams,
  active: ActiveExchanges,
  ports: RunningSidecar['ports'],
): unknown {
  const loaded = store.current();
  const breakers = upstreams.states();
  const policy = loaded?.policy;
  return {
    ready: loaded !== null,
    policy: policy
      ? {
          name: policy.name,
          namespace: policy.namespace ?? null,
          generation: store.generation,
          metadataGeneration: policy.generation ?? null,
          mode: policy.mode,
          killSwitch: policy.killSwitch,
          fingerprint: policy.fingerprint,
          source: store.source,
          loadedAt: store.loadedAt,
        }
      : null,
    lastError: store.lastError,
    providers: (policy?.providers ?? []).map((p) => ({
      name: p.name,
      type: p.type,
      endpoint: `${p.origin}${p.basePath}`,
      killSwitch: p.killSwitch,
      breaker: breakers.get(p.name) ?? 'closed',
      credentials: p.credentials.kind,
      allowedHosts: p.hosts.patterns,
      allowedPaths: p.paths.patterns,
      pathsDefaulted: p.pathsDefaulted,
      allowedMethods: [...p.methods],
      allowedModels: p.models?.patterns ?? null,
      allowedCIDRs: p.cidrs,
    })),
    listeners: ports,
    active: countActive(active),
  };
}
