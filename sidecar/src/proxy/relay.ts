// Moves one request to a provider and its response back: undici dispatch with a handler that writes
// each chunk to the app as it arrives (SSE and chunked bodies are never held back, beyond the
// response guard's bounded hold-back), pauses the upstream while the app's socket is full, aborts
// the upstream when the app leaves, and ends a stream that breaks mid-way with an explicit error.
// With a response guard, chunks pass through its ResponseScanner: a JSON body it may change or
// refuse is held until it ends, a Block ends a stream with an `error` event. Error bodies (status
// ≥ 400, small) are buffered to scrub any echoed secret; 3xx answers are refused, never followed.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { RefusalError } from '../../../api/src/refusals.ts';
import { egressRefusal } from '../egress/refuse.ts';
import { refusalOf as guardRefusal, type GuardDecision } from '../guards/policy.ts';
import { ResponseScanner, type ResponseScanOptions } from '../guards/response.ts';
import type { CompiledProvider } from '../policy/compile.ts';
import { asRefusal, sendRefusal, type Exchange } from './exchange.ts';
import { clientResponseHeaders, scrubSecrets } from './headers.ts';
import type { RequestFacts } from '../policy/decide.ts';
import type { ActiveExchanges } from './context.ts';
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
  /** Scan the response (data boundary echoes, restore, tool calls); undefined: pass it through. */
  scan?: Omit<ResponseScanOptions, 'contentType'> | undefined;
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

/** holding: a JSON body the response guard holds until it ends (the head waits too). */
type State = 'waiting' | 'streaming' | 'buffering' | 'holding' | 'settled';

const EMPTY = Buffer.alloc(0);

class RelayHandler implements Dispatcher.DispatchHandler {
  readonly #exchange: Exchange;
  readonly #res: ServerResponse;
  readonly #secrets: readonly string[];
  readonly #scan: RelayTarget['scan'];
  /** The response guard, once the response has started (2xx) or ended (errors). */
  guard: ResponseScanner | undefined;
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

  constructor(
    exchange: Exchange,
    res: ServerResponse,
    secrets: readonly string[],
    scan: RelayTarget['scan'],
  ) {
    this.#exchange = exchange;
    this.#res = res;
    this.#secrets = secrets;
    this.#scan = scan;
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
      const scanner = this.#scanner;
      const guard =
        this.#scan &&
        new ResponseScanner({
          ...this.#scan,
          contentType: type,
          contentEncoding: encoding,
          // The guard parses a JSON body anyway: usage is read from that, not decoded a second time.
          onJson: scanner && ((payload) => scanner.take(payload)),
        });
      this.guard = guard;
      if (guard?.holdsBody) this.#state = 'holding';
      else this.#startStreaming();
    }
    if (statusCode >= 500) this.#onHeaders.reject(new UpstreamStatus(statusCode));
    else this.#onHeaders.resolve();
  }

  #startStreaming(): void {
    this.#state = 'streaming';
    const exchange = this.#exchange;
    const out = clientResponseHeaders(this.#headers ?? {}, this.#secrets);
    out['x-chaperone-request-id'] = exchange.id;
    // Restored placeholders change the length.
    if (this.guard?.mayRewrite) delete out['content-length'];
    this.#res.writeHead(exchange.status, out);
    if (exchange.stream) this.#res.flushHeaders();
  }

  #write(controller: Dispatcher.DispatchController, bytes: Buffer): void {
    if (bytes.length > 0 && !this.#res.write(bytes)) {
      controller.pause();
      this.#res.once('drain', () => controller.resume());
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#exchange.responseBytes += chunk.length;
    this.#scanner?.push(chunk);
    const state = this.#state;
    if (state === 'buffering') {
      if (this.#bufferedBytes + chunk.length <= MAX_ERROR_BODY) this.#buffered.push(chunk);
      this.#bufferedBytes += chunk.length;
      return;
    }
    const guard = this.guard;
    if (state === 'holding') {
      const out = guard!.push(chunk);
      if (guard!.holdsBody) return;
      // Larger than the guard holds: what it held goes on, the rest streams (marked unscanned).
      this.#startStreaming();
      this.#write(controller, out);
      return;
    }
    if (state !== 'streaming') return;
    if (guard === undefined) {
      this.#write(controller, chunk);
      return;
    }
    const out = guard.push(chunk);
    if (guard.blocked) this.#endBlocked(controller, out, guard.blocked);
    else this.#write(controller, out);
  }

  /** A Block fired mid-stream: the scanner's `error` event ends what the app gets; upstream stops. */
  #endBlocked(
    controller: Dispatcher.DispatchController | undefined,
    tail: Buffer,
    decision: GuardDecision,
  ): void {
    this.#state = 'settled';
    const exchange = this.#exchange;
    const refusal = guardRefusal(decision, {
      policy: exchange.policy,
      provider: exchange.provider?.name ?? null,
    });
    markBlocked(exchange, refusal);
    this.#res.end(tail);
    controller?.abort(refusal);
    this.#finish();
  }

  onResponseEnd(): void {
    const exchange = this.#exchange;
    const guard = this.guard;
    const state = this.#state;
    // The guard's end first: a JSON body it parses hands its usage to the usage scanner.
    const ended = state === 'holding' || state === 'streaming' ? guard?.end() : undefined;
    exchange.usage = this.#scanner?.end();
    if (state === 'holding') {
      const body = ended!;
      if (guard!.blocked) {
        const blocked = guard!.blocked;
        sendRefusal(
          this.#res,
          exchange,
          guardRefusal(blocked, { policy: exchange.policy, provider: exchange.provider?.name ?? null }),
        );
      } else {
        const out = clientResponseHeaders(this.#headers ?? {}, this.#secrets);
        delete out['transfer-encoding'];
        out['content-length'] = body.length;
        out['x-chaperone-request-id'] = exchange.id;
        this.#res.writeHead(exchange.status, out);
        this.#res.end(body);
      }
    } else if (state === 'buffering') {
      const encoding = this.#headers?.['content-encoding'];
      const decoded = this.#scanError(
        decodeErrorBody(Buffer.concat(this.#buffered), typeof encoding === 'string' ? encoding : undefined),
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
    } else if (state === 'streaming') {
      const tail = ended ?? EMPTY;
      if (guard?.blocked) {
        this.#endBlocked(undefined, tail, guard.blocked);
        return;
      }
      this.#res.end(tail.length > 0 ? tail : undefined);
    }
    this.#state = 'settled';
    this.#finish();
  }

  /** An error body, whole and decoded: scanned for echoes like any response (it is never held back for it). */
  #scanError(decoded: Buffer | undefined): Buffer | undefined {
    if (decoded === undefined || !this.#scan) return decoded;
    const contentType = this.#headers?.['content-type'];
    const guard = new ResponseScanner({
      ...this.#scan,
      contentType: typeof contentType === 'string' ? contentType : undefined,
    });
    this.guard = guard;
    const head = guard.push(decoded);
    const tail = guard.end();
    return guard.blocked ? decoded : head.length === 0 ? tail : Buffer.concat([head, tail]);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const state = this.#state;
    this.#state = 'settled';
    if (state === 'waiting') {
      this.#onHeaders.reject(err);
    } else if (state === 'buffering' || state === 'holding') {
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
  active: ActiveExchanges;
}

/** A guard's Block on a response whose head was already sent: recorded as the refusal it is. */
function markBlocked(exchange: Exchange, refusal: RefusalError): void {
  exchange.result = 'deny';
  exchange.code = refusal.code;
  exchange.reason = refusal.reason;
  exchange.rule = refusal.rule;
  exchange.interrupted = `the response was cut: ${refusal.reason}`;
}

/**
 * Relays the request; resolves once the exchange is over (answered, refused or cut), with the
 * response guard when target.scan asked for one and the provider answered.
 */
export async function relay(
  ctx: RelayContext,
  exchange: Exchange,
  res: ServerResponse,
  target: RelayTarget,
  facts: RequestFacts,
): Promise<ResponseScanner | undefined> {
  const handler = new RelayHandler(exchange, res, target.secrets, target.scan);
  const done = ctx.active.add({ exchange, facts, cut: (refusal) => handler.cut(refusal) });
  try {
    await run(ctx, exchange, res, target, handler);
  } finally {
    done();
  }
  return handler.guard;
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
