// The steps every proxied HTTP request takes once its destination is parsed, in decide()'s order:
// judge what is known → read the body (bounded) → judge again with model and size → guards
// (redaction, injection, tools) → reserve against the rate limits → credential → relay (with the
// response guard) → settle the reservation and record the findings. Both the provider endpoints
// (:15000) and absolute-form proxy requests (:15001) come through here; a CONNECT tunnel cannot
// (its requests are encrypted).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RefusalError } from '../../../api/src/refusals.ts';
import type { CredentialHeaders } from '../credentials/source.ts';
import { decide, type Decision, type RequestFacts } from '../policy/decide.ts';
import { JsonBody } from '../policy/json-body.ts';
import { readModel } from '../policy/model.ts';
import { readBody } from './body.ts';
import type { LoadedPolicy, ProxyContext } from './context.ts';
import { sendRefusal, type Exchange } from './exchange.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { relay } from './relay.ts';
import {
  applyGuards,
  noteReservation,
  recordGuards,
  reserveCall,
  responseScanOf,
  settleCall,
  type GuardRun,
} from './guards.ts';
import { refusalOf as guardRefusal, type GuardDecision } from '../guards/policy.ts';
import type { Reservation } from '../guards/rate.ts';

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

/** A guard's report is the exchange's reason unless an earlier one was recorded. */
function recordReport(exchange: Exchange, decision: GuardDecision): void {
  if (decision.result !== 'report' || exchange.result !== 'allow') return;
  exchange.result = 'report';
  exchange.code = decision.code;
  exchange.reason = decision.reason;
  exchange.rule = decision.rule;
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
  // Decoded and parsed once, for the model rule and then the guards.
  const json = read.body && new JsonBody(read.body);
  if (provider && decision.result !== 'deny' && decision.apiRulesApplied && !read.overLimit) {
    const encoding = req.headers['content-encoding'];
    facts.model = readModel(
      provider.type,
      facts.path ?? '',
      read.body,
      encoding,
      provider.models !== undefined,
      json,
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
  // Read when needed, not up front: a token exchanged for this request joins them at the credential.
  const secrets = (): readonly string[] => latest?.credentials.secretValues() ?? [];
  let run: GuardRun | undefined;
  if (provider && decision.apiRulesApplied && latest?.guards) {
    run = applyGuards(latest.guards, provider, facts.path ?? '', body, req.headers['content-encoding'], json);
    if (run.decision.result === 'deny') {
      recordGuards(exchange, run, read.body, secrets());
      sendRefusal(
        res,
        exchange,
        guardRefusal(run.decision, { policy: exchange.policy, provider: provider.name }),
      );
      return;
    }
    recordReport(exchange, run.decision);
    body = run.body;
  }
  let reservation: Reservation | undefined;
  if (provider && latestPolicy) {
    const reserved = reserveCall(
      ctx.usage,
      latest?.guards,
      latestPolicy.mode,
      provider,
      run?.estimatedTokens ?? Math.ceil(read.bytes / 4),
    );
    noteReservation(exchange, reserved);
    if (reserved.decision.result === 'deny') {
      if (run) recordGuards(exchange, run, read.body, secrets());
      sendRefusal(
        res,
        exchange,
        guardRefusal(reserved.decision, { policy: exchange.policy, provider: provider.name }),
      );
      return;
    }
    recordReport(exchange, reserved.decision);
    reservation = reserved.reservation;
    // Counted now: a policy change re-judging this exchange in flight must not see its own reservation.
    facts.usage = undefined;
  }
  try {
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
        if (run) recordGuards(exchange, run, read.body, secrets());
        sendRefusal(res, exchange, err);
        return;
      }
    }
    const sent = secrets();
    const scan = run && responseScanOf(run);
    const { origin, forwardPath } = route(decision);
    // Compressed responses could be neither counted nor scanned.
    const identity =
      scan !== undefined || provider?.limits.tokensPerMinute !== undefined
        ? { 'accept-encoding': 'identity' }
        : undefined;
    const scanner = await relay(
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
        secrets: sent,
        scan,
      },
      facts,
    );
    if (run) recordGuards(exchange, run, read.body, sent, scanner);
  } finally {
    if (reservation) settleCall(ctx.usage, reservation, exchange);
  }
}
