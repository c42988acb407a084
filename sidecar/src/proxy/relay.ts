// Moves one request to a provider and its response back: undici dispatch with a handler that writes
// each chunk to the app as it arrives (SSE and chunked bodies are never held back), pauses the
// upstream while the app's socket is full, aborts the upstream when the app leaves, and ends a
// stream that breaks mid-way with an explicit error. Error bodies (status ≥ 400, small) are
// buffered to scrub any echoed secret; 3xx answers are refused, never followed.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { RefusalError } from '../../../api/src/refusals.ts';
import { egressRefusal } from '../egress/refuse.ts';
import type { CompiledProvider } from '../policy/compile.ts';
import { asRefusal, sendRefusal, type Exchange } from './exchange.ts';
import { clientResponseHeaders, scrubSecrets } from './headers.ts';
import type { RequestFacts } from '../policy/decide.ts';
import type { ActiveExchange } from './context.ts';
import type { Upstreams } from './upstreams.ts';
import { UsageScanner } from './usage.ts';

export interface RelayTarget {
  provider: CompiledProvider | null;
  origin: string;
  /** Path and query exactly as checked. */
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Buffer | undefined;
  /** Values that must never reach the app (the provider's credential). */
  secrets: readonly string[];
}

/** A 5xx answer: relayed to the app as is, but a failure for the provider's breaker. */
class UpstreamStatus extends Error {
  constructor(status: number) {
    super(`provider answered ${status}`);
    this.name = 'UpstreamStatus';
  }
}

const MAX_ERROR_BODY = 1_048_576;

/** An error body in plain bytes, or undefined when its encoding cannot be undone. */
export function decodeErrorBody(body: Buffer, encoding: string | undefined): Buffer | undefined {
  const options = { maxOutputLength: 4 * MAX_ERROR_BODY };
  try {
    switch (encoding?.trim().toLowerCase()) {
      case undefined:
      case '':
      case 'identity':
        return body;
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(body, options);
      case 'deflate':
        return inflateSync(body, options);
      case 'br':
        return brotliDecompressSync(body, options);
      case 'zstd':
        return zstdDecompressSync(body, options);
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

type State = 'waiting' | 'streaming' | 'buffering' | 'settled';

class RelayHandler implements Dispatcher.DispatchHandler {
  readonly #exchange: Exchange;
  readonly #res: ServerResponse;
  readonly #secrets: readonly string[];
  #state: State = 'waiting';
  #controller: Dispatcher.DispatchController | undefined;
  #clientGone = false;
  #cutBy: RefusalError | undefined;
  #headers: IncomingHttpHeaders | undefined;
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  #scanner: UsageScanner | undefined;
  #onHeaders!: { resolve: () => void; reject: (err: Error) => void };
  readonly headers: Promise<void>;
  #finish!: () => void;
  readonly done: Promise<void>;

  constructor(exchange: Exchange, res: ServerResponse, secrets: readonly string[]) {
    this.#exchange = exchange;
    this.#res = res;
    this.#secrets = secrets;
    this.headers = new Promise((resolve, reject) => (this.#onHeaders = { resolve, reject }));
    this.done = new Promise((resolve) => (this.#finish = resolve));
    res.once('close', () => {
      if (res.writableFinished) return;
      this.#clientGone = true;
      this.#controller?.abort(new Error('the app closed the connection'));
    });
  }

  /** Stops the exchange now (a policy change forbids it): the refusal reaches the app. */
  cut(refusal: RefusalError): void {
    this.#cutBy = refusal;
    this.#controller?.abort(refusal);
  }

  get started(): boolean {
    return this.#state === 'streaming';
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(new Error('the app closed the connection'));
    else if (this.#cutBy) controller.abort(this.#cutBy);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    const exchange = this.#exchange;
    exchange.firstByteMs = Math.round((performance.now() - exchange.startedAt) * 1000) / 1000;
    exchange.status = statusCode;
    if (statusCode >= 300 && statusCode < 400 && statusCode !== 304) {
      const location = typeof headers.location === 'string' ? headers.location : '(no location)';
      this.#state = 'settled';
      const refusal = egressRefusal(
        'redirect',
        `the provider answered ${statusCode} redirecting to ${location.slice(0, 200)}: redirects are never followed`,
        'UPSTREAM_ERROR',
      );
      this.#onHeaders.reject(refusal);
      controller.abort(refusal);
      this.#finish();
      return;
    }
    const contentType = headers['content-type'];
    const type = typeof contentType === 'string' ? contentType : undefined;
    const encoding =
      typeof headers['content-encoding'] === 'string' ? headers['content-encoding'] : undefined;
    this.#scanner = UsageScanner.for(type, encoding);
    exchange.stream = type?.startsWith('text/event-stream') ?? false;
    this.#headers = headers;
    if (statusCode >= 400) {
      this.#state = 'buffering';
    } else {
      this.#state = 'streaming';
      const out = clientResponseHeaders(headers, this.#secrets);
      out['x-chaperone-request-id'] = exchange.id;
      this.#res.writeHead(statusCode, out);
      if (exchange.stream) this.#res.flushHeaders();
    }
    if (statusCode >= 500) this.#onHeaders.reject(new UpstreamStatus(statusCode));
    else this.#onHeaders.resolve();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#exchange.responseBytes += chunk.length;
    this.#scanner?.push(chunk);
    if (this.#state === 'buffering') {
      if (this.#bufferedBytes + chunk.length <= MAX_ERROR_BODY) this.#buffered.push(chunk);
      this.#bufferedBytes += chunk.length;
      return;
    }
    if (this.#state !== 'streaming') return;
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    const exchange = this.#exchange;
    exchange.usage = this.#scanner?.end();
    if (this.#state === 'buffering') {
      const encoding = this.#headers?.['content-encoding'];
      const decoded = decodeErrorBody(
        Buffer.concat(this.#buffered),
        typeof encoding === 'string' ? encoding : undefined,
      );
      if (decoded === undefined) {
        sendRefusal(
          this.#res,
          this.#exchange,
          new RefusalError(
            'UPSTREAM_ERROR',
            `the provider answered ${exchange.status} with a ${String(encoding)}-encoded body that could not be checked for secrets`,
          ),
        );
      } else {
        // Decoded (so a secret cannot hide in compressed bytes), scrubbed, sent plain.
        const body = scrubSecrets(decoded, this.#secrets);
        const out = clientResponseHeaders(this.#headers ?? {}, this.#secrets);
        delete out['content-encoding'];
        out['content-length'] = body.length;
        out['x-chaperone-request-id'] = exchange.id;
        if (this.#bufferedBytes > MAX_ERROR_BODY) exchange.interrupted = 'error body truncated at 1 MiB';
        this.#res.writeHead(exchange.status, out);
        this.#res.end(body);
      }
    } else if (this.#state === 'streaming') {
      this.#res.end();
    }
    this.#state = 'settled';
    this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const state = this.#state;
    this.#state = 'settled';
    if (state === 'waiting') {
      this.#onHeaders.reject(err);
    } else if (state === 'buffering') {
      sendRefusal(this.#res, this.#exchange, asRefusal(err));
    } else if (state === 'streaming') {
      this.#interrupt(err);
    }
    this.#finish();
  }

  /** The response has started and cannot become a refusal: end it so the app sees the failure. */
  #interrupt(err: Error): void {
    const exchange = this.#exchange;
    if (this.#clientGone) {
      exchange.interrupted = 'the app closed the connection; the upstream request was cancelled';
      return;
    }
    const refusal = asRefusal(err);
    exchange.interrupted = refusal.reason;
    exchange.code = refusal.code;
    exchange.reason = refusal.reason;
    exchange.rule = refusal.rule;
    const res = this.#res;
    if (exchange.stream && !res.destroyed) {
      const body = refusal.toBody(exchange.id);
      body.policy = exchange.policy;
      body.provider = exchange.provider?.name ?? null;
      const event = {
        type: 'error',
        error: { type: 'upstream_error', code: refusal.code, message: refusal.reason },
        ...body,
      };
      // SDKs raise on an `error` event; the cut connection (no final chunk) tells everyone else.
      res.write(`event: error\ndata: ${JSON.stringify(event)}\n\n`, () => res.destroy());
    } else {
      res.destroy();
    }
  }
}

export interface RelayContext {
  upstreams: Upstreams;
  active: Set<ActiveExchange>;
}

/** Relays the request; resolves once the exchange is over (answered, refused or cut). */
export async function relay(
  ctx: RelayContext,
  exchange: Exchange,
  res: ServerResponse,
  target: RelayTarget,
  facts: RequestFacts,
): Promise<void> {
  const handler = new RelayHandler(exchange, res, target.secrets);
  const active: ActiveExchange = { exchange, facts, cut: (refusal) => handler.cut(refusal) };
  ctx.active.add(active);
  try {
    await run(ctx, exchange, res, target, handler);
  } finally {
    ctx.active.delete(active);
  }
}

async function run(
  ctx: RelayContext,
  exchange: Exchange,
  res: ServerResponse,
  target: RelayTarget,
  handler: RelayHandler,
): Promise<void> {
  const pool = ctx.upstreams.pool(target.provider, target.origin);
  const attempt = (): Promise<void> => {
    pool.dispatch(
      { path: target.path, method: target.method, headers: target.headers, body: target.body ?? null },
      handler,
    );
    return handler.headers;
  };
  try {
    await (target.provider ? ctx.upstreams.breaker(target.provider).fire(attempt) : attempt());
  } catch (err) {
    if (err instanceof UpstreamStatus) {
      await handler.done;
      return;
    }
    if ((err as { code?: string }).code === 'EOPENBREAKER') {
      sendRefusal(
        res,
        exchange,
        new RefusalError(
          'CIRCUIT_OPEN',
          `the circuit breaker of provider ${target.provider?.name} is open after repeated failures; retry after ${target.provider?.breaker.resetSeconds} s`,
          { rule: `${target.provider?.rule}.circuitBreaker` },
        ),
      );
      return;
    }
    if (!handler.started) sendRefusal(res, exchange, asRefusal(err));
  }
  await handler.done;
}
