// The steps every proxied HTTP request takes once its destination is parsed, in decide()'s order:
// judge what is known → read the body (bounded) → judge again with model and size → credential →
// count → relay. Both the provider endpoints (:15000) and absolute-form proxy requests (:15001)
// come through here; a CONNECT tunnel cannot (its requests are encrypted).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RefusalError } from '../../../api/src/refusals.ts';
import type { CredentialHeaders } from '../credentials/source.ts';
import { decide, type Decision, type RequestFacts } from '../policy/decide.ts';
import { readModel } from '../policy/model.ts';
import { readBody } from './body.ts';
import type { LoadedPolicy, ProxyContext } from './context.ts';
import { sendRefusal, type Exchange } from './exchange.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { relay } from './relay.ts';
import { applyGuards } from './guards.ts';
import { refusalOf as guardRefusal } from '../guards/policy.ts';

export interface Route {
  /** `https://host:port` to send to. */
  origin: string;
  /** Path (+ query) to send, exactly the one checked. */
  forwardPath: string;
}

/** The refusal a denying decision answers with. */
export function refusalOf(decision: Decision, policyName: string | null): RefusalError {
  return new RefusalError(decision.code ?? 'EGRESS_DENIED', decision.reason, {
    rule: decision.rule,
    policy: policyName,
    provider: decision.provider?.name ?? null,
  });
}

function record(exchange: Exchange, decision: Decision): void {
  exchange.result = decision.result;
  if (decision.result === 'report') {
    exchange.code = decision.code;
    exchange.reason = decision.reason;
    exchange.rule = decision.rule;
  }
}

/**
 * Runs the request through the policy and, if it passes, to the provider. `route` maps the decided
 * provider (null: Report mode, no provider matched) to where the request goes.
 */
export async function judgeAndRelay(
  ctx: ProxyContext,
  loaded: LoadedPolicy | null,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  facts: RequestFacts,
  route: (decision: Decision) => Route,
): Promise<void> {
  const policy = loaded?.policy ?? null;
  let decision = decide(policy, facts);
  exchange.provider = decision.provider;
  if (decision.result === 'deny') {
    sendRefusal(res, exchange, refusalOf(decision, exchange.policy));
    return;
  }
  const limit = decision.provider?.limits.maxRequestBytes ?? 1_048_576;
  const read = await readBody(req, limit, ctx.timeouts.clientMs);
  exchange.requestBytes = read.bytes;
  facts.bodyBytes = read.bytes;
  // A policy applied while the body arrived (a kill switch) applies to this request too.
  const latest = ctx.policies.current();
  const latestPolicy = latest?.policy ?? null;
  decision = decide(latestPolicy, facts);
  const provider = decision.provider;
  exchange.provider = provider;
  if (provider && decision.result !== 'deny' && decision.apiRulesApplied && !read.overLimit) {
    const encoding = req.headers['content-encoding'];
    facts.model = readModel(
      provider.type,
      facts.path ?? '',
      read.body,
      encoding,
      provider.models !== undefined,
    );
    if (facts.model.kind === 'model') exchange.model = facts.model.model;
    decision = decide(latestPolicy, facts);
  }
  if (decision.result === 'deny' || read.overLimit) {
    const refusal = read.overLimit
      ? new RefusalError(
          'REQUEST_TOO_LARGE',
          `the request body (${read.bytes} bytes) exceeds ${limit} bytes`,
          {
            rule: provider ? `${provider.rule}.limits.maxRequestBytes` : 'sidecar',
          },
        )
      : refusalOf(decision, exchange.policy);
    sendRefusal(res, exchange, refusal, read.overLimit);
    return;
  }
  record(exchange, decision);
  let body = read.body;
  if (provider && decision.apiRulesApplied && latest?.guards) {
    const guarded = applyGuards(
      latest.guards,
      provider,
      facts.path ?? '',
      body,
      req.headers['content-encoding'],
    );
    exchange.guards = guarded.audit;
    if (guarded.decision.result === 'deny') {
      sendRefusal(
        res,
        exchange,
        guardRefusal(guarded.decision, { policy: exchange.policy, provider: provider.name }),
      );
      return;
    }
    if (guarded.decision.result === 'report' && exchange.result === 'allow') {
      exchange.result = 'report';
      exchange.code = guarded.decision.code;
      exchange.reason = guarded.decision.reason;
      exchange.rule = guarded.decision.rule;
    }
    body = guarded.body;
  }
  let credential: CredentialHeaders | undefined;
  if (provider && decision.apiRulesApplied && latest) {
    try {
      // What leaves: SigV4 signs it, traffic tags name its request id.
      const to = route(decision);
      credential = await latest.credentials.headersFor(provider, {
        method: facts.method ?? 'GET',
        origin: to.origin,
        path: to.forwardPath,
        body,
        requestId: exchange.id,
      });
    } catch (err) {
      if (!(err instanceof RefusalError)) throw err;
      sendRefusal(res, exchange, err);
      return;
    }
  }
  if (provider) ctx.usage.recordRequest(provider.name);
  const { origin, forwardPath } = route(decision);
  const identity =
    provider?.limits.tokensPerMinute !== undefined ? { 'accept-encoding': 'identity' } : undefined;
  await relay(
    ctx,
    exchange,
    res,
    {
      provider,
      origin,
      path: forwardPath,
      method: facts.method ?? 'GET',
      headers: upstreamRequestHeaders(req.headers, credential, identity),
      body,
      secrets: latest?.credentials.secretValues() ?? [],
    },
    facts,
  );
}
