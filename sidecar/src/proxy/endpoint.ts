// :15000 — provider endpoints (base-URL mode). `http://127.0.0.1:15000/<provider>/<path>` goes to
// `<endpoint><path>`: the app's SDK only changes its base URL, and the sidecar sees (and judges)
// path, method and model, and adds the credential.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { egressRefusal } from '../egress/refuse.ts';
import { normalizePath, splitQuery } from '../egress/path.ts';
import type { RequestFacts } from '../policy/decide.ts';
import type { ProxyContext } from './context.ts';
import { asRefusal, newExchange, sendRefusal, type Exchange } from './exchange.ts';
import { judgeAndRelay } from './pipeline.ts';
import { chooseProvider } from '../policy/failover.ts';

export function handleEndpointRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const exchange = newExchange('endpoint', req.method ?? 'GET');
  serve(ctx, req, res, exchange)
    .catch((err: unknown) => sendRefusal(res, exchange, asRefusal(err)))
    .finally(() => ctx.observer.finished(exchange));
}

async function serve(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
): Promise<void> {
  const loaded = ctx.policies.current();
  exchange.policy = loaded?.policy.name ?? null;
  const target = req.url ?? '';
  if (!target.startsWith('/')) {
    sendRefusal(
      res,
      exchange,
      egressRefusal(
        'malformed-target',
        'this port serves provider endpoints (/<provider>/<path>); proxy requests go to the forward proxy port',
      ),
    );
    return;
  }
  const { path: rawPath, query } = splitQuery(target);
  const slash = rawPath.indexOf('/', 1);
  const name = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  exchange.requestedProvider = name;
  const rest = normalizePath(slash < 0 ? '/' : rawPath.slice(slash));
  if (!rest.ok) {
    sendRefusal(res, exchange, rest.error);
    return;
  }
  // While the provider is down (breaker open) or killed, its declared failover serves the request.
  const choice = loaded ? chooseProvider(loaded.policy, name, (p) => ctx.upstreams.state(p)) : undefined;
  const provider = choice?.provider;
  if (choice?.failedOverFrom) {
    exchange.reason = `failed over from ${choice.failedOverFrom.provider} (${choice.failedOverFrom.because})`;
  }
  const basePath = provider?.basePath ?? '';
  const facts: RequestFacts = {
    via: 'endpoint',
    providerName: provider?.name ?? name,
    method: exchange.method,
    path: `${basePath}${rest.value.decoded}`,
    usage: ctx.usage,
  };
  exchange.path = facts.path;
  if (provider) {
    exchange.host = provider.host;
    exchange.port = provider.port;
  }
  await judgeAndRelay(ctx, loaded, req, res, exchange, facts, (decision) => ({
    origin: decision.provider!.origin,
    forwardPath: `${basePath}${rest.value.forward}${query}`,
  }));
}
