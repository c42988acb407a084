// One request (or tunnel) as it crosses the sidecar: what was asked, what was decided, what came
// back. Filled in along the way and handed to the observer (audit line, metrics, token counts) once.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ServerResponse } from 'node:http';
import { RefusalError, type RefusalCode } from '../../../api/src/refusals.ts';
import type { CompiledProvider } from '../policy/compile.ts';
import type { DecisionResult } from '../policy/decide.ts';
import type { FindingCount } from '../guards/findings.ts';
import type { Usage } from './usage.ts';

export interface Exchange {
  id: string;
  startedAt: number;
  via: 'endpoint' | 'forward' | 'connect';
  method: string;
  /** Decoded upstream path (never the query: it may carry keys). */
  path: string | undefined;
  host: string | undefined;
  port: number | undefined;
  policy: string | null;
  provider: CompiledProvider | null;
  /** The provider name the app asked for (base-URL mode), known before the policy matched it. */
  requestedProvider: string | undefined;
  model: string | undefined;
  /** allow / report (let through, would have been denied) / deny. */
  result: DecisionResult;
  code: RefusalCode | null;
  reason: string | undefined;
  rule: string | undefined;
  status: number;
  requestBytes: number;
  responseBytes: number;
  usage: Usage | undefined;
  stream: boolean;
  firstByteMs: number | undefined;
  /** The upstream failed or the client left after the response had started. */
  interrupted: string | undefined;
  /** Data-boundary and guard audit fields (types and counts; content only per spec.audit). */
  guards?: Record<string, string | number | boolean | null>;
  /** Guard findings by kind, for metrics and the controller's Events (never values). */
  findings?: FindingCount[];
}

export function newExchange(via: Exchange['via'], method: string): Exchange {
  return {
    id: randomUUID(),
    startedAt: performance.now(),
    via,
    method,
    path: undefined,
    host: undefined,
    port: undefined,
    policy: null,
    provider: null,
    requestedProvider: undefined,
    model: undefined,
    result: 'allow',
    code: null,
    reason: undefined,
    rule: undefined,
    status: 0,
    requestBytes: 0,
    responseBytes: 0,
    usage: undefined,
    stream: false,
    firstByteMs: undefined,
    interrupted: undefined,
  };
}

export function elapsedMs(exchange: Exchange): number {
  return Math.round((performance.now() - exchange.startedAt) * 1000) / 1000;
}

/** Records a refusal on the exchange. */
export function markRefused(exchange: Exchange, err: RefusalError): void {
  exchange.result = 'deny';
  exchange.code = err.code;
  exchange.reason = err.reason;
  exchange.rule = err.rule;
  exchange.status = err.status;
}

/** Answers the app with the refusal's JSON body (or cuts the response if it already started). */
export function sendRefusal(res: ServerResponse, exchange: Exchange, err: RefusalError, close = false): void {
  markRefused(exchange, err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = err.toBody(exchange.id);
  body.policy ??= exchange.policy;
  body.provider ??= exchange.provider?.name ?? exchange.requestedProvider ?? null;
  const text = JSON.stringify(body);
  res.writeHead(err.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-chaperone-request-id': exchange.id,
    'x-chaperone-refusal': err.code,
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/** Any error as a refusal: refusals keep their code, anything else is the provider failing. */
export function asRefusal(err: unknown, fallback: RefusalCode = 'UPSTREAM_ERROR'): RefusalError {
  if (err instanceof RefusalError) return err;
  const e = err as { code?: string; message?: string };
  const what =
    e.code && !e.message?.includes(e.code) ? `${e.code}: ${e.message}` : (e.message ?? String(err));
  return new RefusalError(fallback, `the provider could not be reached or failed (${what})`, { cause: err });
}
