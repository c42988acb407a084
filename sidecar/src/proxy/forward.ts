// :15001, absolute-form requests (`GET http://host/path` through HTTP_PROXY). The destination is
// parsed strictly, must agree with the Host header, and is always reached over TLS: a provider's
// endpoint host gets the full policy and its credential, its extra allowedHosts host and port checks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseAbsoluteTarget, parseAuthority } from '../egress/host.ts';
import { normalizePath, splitQuery } from '../egress/path.ts';
import { egressRefusal } from '../egress/refuse.ts';
import type { RequestFacts } from '../policy/decide.ts';
import type { ProxyContext } from './context.ts';
import { asRefusal, newExchange, sendRefusal, type Exchange } from './exchange.ts';
import { judgeAndRelay } from './pipeline.ts';

export function handleForwardRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const exchange = newExchange('forward', req.method ?? 'GET');
  serve(ctx, req, res, exchange)
    .catch((err: unknown) => sendRefusal(res, exchange, asRefusal(err)))
    .finally(() => ctx.observer.finished(exchange));
}

/** The Host header(s) must name the target's host (and port, when either names one). */
function hostHeaderMismatch(req: IncomingMessage, host: string, port: number): string | undefined {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (req.rawHeaders[i]!.toLowerCase() === 'host') values.push(req.rawHeaders[i + 1]!);
  if (values.length > 1) return `the request carries ${values.length} Host headers`;
  if (values.length === 0) return undefined;
  const parsed = parseAuthority(values[0]!, port);
  if (!parsed.ok) return `the Host header is not a valid host: ${parsed.error.reason}`;
  if (parsed.value.host !== host || parsed.value.port !== port)
    return `the Host header (${parsed.value.host}:${parsed.value.port}) differs from the target (${host}:${port})`;
  return undefined;
}

async function serve(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
): Promise<void> {
  const loaded = ctx.policies.current();
  exchange.policy = loaded?.policy.name ?? null;
  const target = parseAbsoluteTarget(req.url ?? '');
  if (!target.ok) {
    const error = (req.url ?? '').startsWith('/')
      ? egressRefusal(
          'malformed-target',
          'the forward proxy takes absolute-form requests (http://host/path) and CONNECT; provider endpoints are on the endpoint port',
        )
      : target.error;
    sendRefusal(res, exchange, error);
    return;
  }
  const { host, port, explicitPort, scheme, pathAndQuery } = target.value;
  exchange.host = host;
  exchange.port = port;
  const mismatch = hostHeaderMismatch(req, host, port);
  if (mismatch) {
    sendRefusal(res, exchange, egressRefusal('host-mismatch', mismatch));
    return;
  }
  const { path, query } = splitQuery(pathAndQuery);
  const normalized = normalizePath(path);
  if (!normalized.ok) {
    sendRefusal(res, exchange, normalized.error);
    return;
  }
  const facts: RequestFacts = {
    via: 'forward',
    host,
    // The scheme's default port means "the provider's port": the sidecar always speaks TLS upstream.
    ...(explicitPort && port !== (scheme === 'http' ? 80 : 443) ? { port } : {}),
    method: exchange.method,
    path: normalized.value.decoded,
    usage: ctx.usage,
  };
  exchange.path = facts.path;
  await judgeAndRelay(ctx, loaded, req, res, exchange, facts, (decision) => {
    const provider = decision.provider;
    const upstreamPort = facts.port ?? (provider && provider.host === host ? provider.port : 443);
    exchange.port = upstreamPort;
    return { origin: `https://${host}:${upstreamPort}`, forwardPath: `${normalized.value.forward}${query}` };
  });
}
