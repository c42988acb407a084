// The audit record: one line per request or tunnel, allowed or refused. Field names follow the
// OpenTelemetry semantic conventions where one exists (gen_ai.*, http.*, url.*, server.*); the rest
// are Chaperone's own. Documented in docs/sidecar.md. Never the query, headers or bodies.
import { GEN_AI_SYSTEM } from '../policy/defaults.ts';
import { elapsedMs, type Exchange } from '../proxy/exchange.ts';

export type AuditRecord = Record<string, string | number | boolean | null>;

export function auditRecord(exchange: Exchange): AuditRecord {
  const record: AuditRecord = {
    audit: true,
    requestId: exchange.id,
    via: exchange.via,
    result: exchange.result,
    code: exchange.code,
    reason: exchange.reason ?? null,
    rule: exchange.rule ?? null,
    policy: exchange.policy,
    'chaperone.provider': exchange.provider?.name ?? exchange.requestedProvider ?? null,
    'http.request.method': exchange.method,
    'http.response.status_code': exchange.status,
    'http.request.body.size': exchange.requestBytes,
    'http.response.body.size': exchange.responseBytes,
    durationMs: elapsedMs(exchange),
  };
  if (exchange.provider) record['gen_ai.system'] = GEN_AI_SYSTEM[exchange.provider.type];
  if (exchange.path !== undefined) record['url.path'] = exchange.path;
  if (exchange.host !== undefined) record['server.address'] = exchange.host;
  if (exchange.port !== undefined) record['server.port'] = exchange.port;
  if (exchange.model !== undefined) record['gen_ai.request.model'] = exchange.model;
  if (exchange.stream) record.stream = true;
  if (exchange.firstByteMs !== undefined) record.firstByteMs = exchange.firstByteMs;
  if (exchange.interrupted !== undefined) record.interrupted = exchange.interrupted;
  const usage = exchange.usage;
  if (usage?.responseModel !== undefined) record['gen_ai.response.model'] = usage.responseModel;
  if (usage?.inputTokens !== undefined) record['gen_ai.usage.input_tokens'] = usage.inputTokens;
  if (usage?.outputTokens !== undefined) record['gen_ai.usage.output_tokens'] = usage.outputTokens;
  if (exchange.guards) Object.assign(record, exchange.guards);
  return record;
}

/** The message of the line: what happened, for humans scanning logs. */
export function auditMessage(exchange: Exchange): string {
  if (exchange.result === 'deny') return 'refused';
  if (exchange.interrupted !== undefined) return 'interrupted';
  if (exchange.result === 'report') return 'would refuse (report mode)';
  return exchange.via === 'connect' ? 'tunnel' : 'request';
}
