// ResponseScanner: the provider's answer on its way back to the app, without buffering a stream.
// SSE (OpenAI chat and Responses, Anthropic, Gemini events) is split into events; the text deltas
// of each choice or content block go through a hold-back detector (so a value split across
// deltas and TCP chunks is still seen whole) and, with restoreInResponse, through a restore that
// holds back at most a placeholder's length. Tool calls are assembled from their deltas for the
// tool guard. What the provider sends back is reported (counts), never changed, except for
// restored placeholders. A JSON body is held until it ends (bounded) when it may change or be
// refused, else passed on as it arrives and a copy scanned at the end.
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { scanText } from './detect/scan.ts';
import type { Match } from './detect/types.ts';
import { countDetectors, type ResponseFindings } from './findings.ts';
import type { Placeholders } from './placeholders.ts';
import { ALLOW, fired, stronger, type GuardDecision, type GuardPolicy } from './policy.ts';
import { responseContent, restoreStrings } from './response-json.ts';
import { SseSplitter, type SseEvent } from './sse.ts';
import { StreamingDetector, StreamingRestore, jsonEscape } from './stream-text.ts';
import { SseStreams } from './response-sse.ts';
import { badArguments, checkResponseToolCall } from './tools.ts';

export interface ResponseScanOptions {
  policy: GuardPolicy;
  /** The response's Content-Type and Content-Encoding headers. */
  contentType: string | undefined;
  contentEncoding?: string | undefined;
  /** From inspectRequest, when restoreInResponse is on. */
  placeholders?: Placeholders | undefined;
  /** A JSON body larger than this is passed on unscanned (default 8 MiB). */
  maxJsonBytes?: number;
  /** Keep up to this many characters of the text the model wrote (for audit content); default none. */
  captureChars?: number;
  /** Called with a JSON body once it is parsed, before anything is restored in it (usage is read from it). */
  onJson?: ((payload: unknown) => void) | undefined;
}

/** Text the model wrote, as the provider sent it (placeholders unrestored), up to a bound. */
export interface CapturedContent {
  text: string;
  truncated: boolean;
}

type Mode = 'sse' | 'json' | 'text' | 'opaque';

const DEFAULT_MAX_JSON = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

function modeOf(
  contentType: string | undefined,
  contentEncoding: string | undefined,
): { mode: Mode; unscanned?: string } {
  if (contentEncoding !== undefined && contentEncoding !== '' && contentEncoding !== 'identity')
    return { mode: 'opaque', unscanned: `the response is ${contentEncoding}-encoded` };
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('text/event-stream')) return { mode: 'sse' };
  if (type.includes('json')) return { mode: 'json' };
  if (type.startsWith('text/') || type === '') return { mode: 'text' };
  return { mode: 'opaque', unscanned: `the response is ${type}` };
}

export class ResponseScanner {
  readonly findings: ResponseFindings = { detected: {}, restored: 0, toolCalls: [], notAllowed: [] };
  readonly #policy: GuardPolicy;
  readonly #mode: Mode;
  readonly #placeholders: Placeholders | undefined;
  readonly #maxJson: number;
  #decision: GuardDecision = ALLOW;
  #blocked: GuardDecision | null = null;
  #ended = false;
  // json
  #held: Buffer[] = [];
  #heldBytes = 0;
  #overflowed = false;
  /** Nothing can change or withhold the body: chunks go on at once, a copy is scanned at the end. */
  #passJson = false;
  #capture: CapturedContent | undefined;
  readonly #captureMax: number;
  readonly #onJson: ((payload: unknown) => void) | undefined;
  // sse
  #splitter: SseSplitter | undefined;
  #streams: SseStreams | undefined;
  #holdEvents: boolean;
  // text
  #textDetector: StreamingDetector | undefined;
  #textRestore: StreamingRestore | undefined;
  #decoder: StringDecoder | undefined;

  constructor(options: ResponseScanOptions) {
    this.#policy = options.policy;
    this.#placeholders =
      options.placeholders && options.placeholders.size > 0 ? options.placeholders : undefined;
    this.#maxJson = options.maxJsonBytes ?? DEFAULT_MAX_JSON;
    const { mode, unscanned } = modeOf(options.contentType, options.contentEncoding);
    this.#mode = mode;
    if (unscanned) this.findings.unscanned = unscanned;
    // Events are forwarded whole (never mid-event) when one may have to change or be withheld.
    const mayBlock = options.policy.tools.action === 'Block' && options.policy.mode === 'Enforce';
    this.#holdEvents = this.#placeholders !== undefined || mayBlock;
    this.#passJson = mode === 'json' && !this.#holdEvents;
    this.#captureMax = options.captureChars ?? 0;
    this.#onJson = options.onJson;
    if (this.#captureMax > 0) this.#capture = { text: '', truncated: false };
    const capture = this.#capture ? (text: string): void => this.#captureText(text) : undefined;
    if (this.#mode === 'sse') {
      this.#splitter = new SseSplitter();
      this.#streams = new SseStreams(options.policy.boundary.detectors, this.findings, this.#placeholders, {
        toolStarted: (name) => this.#toolStarted(name),
        toolFinished: (name, args) => this.#toolFinished(name, args),
        ...(capture && { text: capture }),
      });
    } else if (this.#mode === 'text') {
      this.#decoder = new StringDecoder('utf8');
      this.#textDetector = new StreamingDetector(options.policy.boundary.detectors, this.findings.detected);
      if (this.#placeholders) this.#textRestore = new StreamingRestore(this.#placeholders);
    }
  }

  /** The strongest tool-guard decision so far (report or deny), or allow. */
  get decision(): GuardDecision {
    return this.#decision;
  }

  /** Set when a Block fired: the response was cut (SSE: with an error event), or must be refused (JSON). */
  get blocked(): GuardDecision | null {
    return this.#blocked;
  }

  /**
   * push() returns nothing until end(): the caller must hold the response head until then. Only
   * when the body may change (restore) or be withheld (a tool Block); otherwise it streams on.
   */
  get holdsBody(): boolean {
    return this.#mode === 'json' && !this.#overflowed && !this.#passJson;
  }

  /** Whether what push() and end() return may differ from the bytes received (Content-Length no longer holds). */
  get mayRewrite(): boolean {
    if (this.#mode === 'sse') return this.#holdEvents;
    if (this.#mode === 'text') return this.#textRestore !== undefined;
    return this.#mode === 'json' && !this.#passJson;
  }

  /** The text the model wrote so far, when captureChars asked for it. */
  get content(): CapturedContent | undefined {
    return this.#capture;
  }

  #captureText(text: string): void {
    const capture = this.#capture!;
    if (capture.truncated || text.length === 0) return;
    const room = this.#captureMax - capture.text.length;
    if (text.length > room) {
      capture.text += text.slice(0, room);
      capture.truncated = true;
    } else capture.text += text;
  }

  /** Bytes to forward now for this chunk of the response. */
  push(chunk: Buffer): Buffer {
    if (this.#blocked || this.#ended) return EMPTY;
    switch (this.#mode) {
      case 'sse':
        return this.#pushSse(chunk);
      case 'json':
        return this.#pushJson(chunk);
      case 'text':
        return this.#pushText(chunk);
      default:
        return chunk;
    }
  }

  /** The rest to forward once the provider's response has ended. */
  end(): Buffer {
    if (this.#ended) return EMPTY;
    this.#ended = true;
    if (this.#blocked) return EMPTY;
    switch (this.#mode) {
      case 'sse':
        return this.#endSse();
      case 'json':
        return this.#endJson();
      case 'text':
        return this.#endText();
      default:
        return EMPTY;
    }
  }

  // ---- tools

  #apply(decision: GuardDecision): void {
    if (decision.result === 'allow') return;
    this.#decision = stronger(this.#decision, decision);
    if (decision.result === 'deny' && !this.#blocked) this.#blocked = decision;
  }

  #toolStarted(name: string): void {
    this.findings.toolCalls.push(name);
    const decision = checkResponseToolCall(
      this.#policy,
      { name, args: undefined },
      this.findings.toolCalls.length,
    );
    if (decision.rule === 'spec.guards.tools.allowed' && !this.findings.notAllowed.includes(name))
      this.findings.notAllowed.push(name);
    this.#apply(decision);
  }

  #toolFinished(name: string, args: unknown): void {
    if (this.#policy.tools.action === 'Off') return;
    const bad = badArguments(this.#policy, { name, args });
    if (bad.length === 0) return;
    (this.findings.badArguments ??= []).push(...bad.map((b) => b.split(' ')[0]!));
    this.#apply(
      fired(
        this.#policy,
        this.#policy.tools.action === 'Block',
        'GUARD_BLOCKED',
        `tool arguments refused: ${bad.join('; ')}`,
        'spec.guards.tools',
      ),
    );
  }

  // ---- SSE

  #pushSse(chunk: Buffer): Buffer {
    const streams = this.#streams!;
    if (!this.#holdEvents) {
      // Forwarded as received; scanned on the side.
      this.#splitter!.push(
        chunk,
        (event) => streams.event(event),
        () => this.#unscannedEvent(),
      );
      return chunk;
    }
    let out = '';
    this.#splitter!.push(
      chunk,
      (event) => {
        if (!this.#blocked) out += this.#transformEvent(event);
      },
      (raw) => {
        this.#unscannedEvent();
        if (!this.#blocked) out += raw;
      },
    );
    return out.length === 0 ? EMPTY : Buffer.from(out);
  }

  #transformEvent(event: SseEvent): string {
    const text = this.#streams!.event(event);
    if (this.#blocked) return this.#errorEvent(this.#blocked);
    return text;
  }

  #endSse(): Buffer {
    const streams = this.#streams!;
    let out = '';
    this.#splitter!.end((event) => {
      const text = streams.event(event);
      if (this.#holdEvents && !this.#blocked) out += text;
    });
    if (this.#blocked) return this.#holdEvents ? Buffer.from(out + this.#errorEvent(this.#blocked)) : EMPTY;
    out += streams.end();
    return this.#holdEvents && out.length > 0 ? Buffer.from(out) : EMPTY;
  }

  #unscannedEvent(): void {
    this.findings.unscanned = 'an event larger than 4 MiB was passed on unscanned';
  }

  /** The event that ends a cut stream: SDKs raise on an `error` event. */
  #errorEvent(decision: GuardDecision): string {
    const body = {
      type: 'error',
      error: { type: 'guard_blocked', code: decision.code, message: decision.reason },
      code: decision.code,
      reason: decision.reason,
      rule: decision.rule,
    };
    return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
  }

  // ---- JSON

  #pushJson(chunk: Buffer): Buffer {
    if (this.#overflowed) return chunk;
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes <= this.#maxJson) return this.#passJson ? chunk : EMPTY;
    // Too large to hold: what was held goes on, the rest streams through unscanned.
    this.#overflowed = true;
    this.findings.unscanned = `the response is larger than ${this.#maxJson} bytes`;
    if (this.#passJson) {
      this.#held = [];
      return chunk;
    }
    const out = Buffer.concat(this.#held);
    this.#held = [];
    return out;
  }

  #endJson(): Buffer {
    if (this.#overflowed) return EMPTY;
    const body = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held);
    this.#held = [];
    const out = this.#scanJson(body);
    return this.#passJson ? EMPTY : out;
  }

  /** Scans a whole JSON body; returns what to send (restored, or the body itself). */
  #scanJson(body: Buffer): Buffer {
    const text = body.toString('utf8');
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return this.#endTextBody(body, text);
    }
    this.#onJson?.(payload);
    const { texts, calls } = responseContent(payload);
    if (this.#capture) for (const t of texts) this.#captureText(this.#capture.text === '' ? t : `\n${t}`);
    const matches: Match[] = [];
    for (const t of texts) scanText(t, this.#policy.boundary.detectors, matches);
    for (const m of matches) countDetectors(this.findings.detected, m.detector);
    for (const call of calls) {
      this.#toolStarted(call.name);
      this.#toolFinished(call.name, call.args);
    }
    if (this.#blocked || !this.#placeholders || !text.includes('[')) return this.#blocked ? EMPTY : body;
    const plain = new StreamingRestore(this.#placeholders);
    const json = new StreamingRestore(this.#placeholders, jsonEscape);
    const restored = restoreStrings(payload, plain, json);
    this.findings.restored += plain.restored + json.restored;
    return plain.restored + json.restored > 0 ? Buffer.from(JSON.stringify(restored)) : body;
  }

  /** A body announced as JSON that is not: scanned and restored as text. */
  #endTextBody(body: Buffer, text: string): Buffer {
    if (this.#capture) this.#captureText(text);
    const matches: Match[] = [];
    scanText(text, this.#policy.boundary.detectors, matches);
    for (const m of matches) countDetectors(this.findings.detected, m.detector);
    if (!this.#placeholders) return body;
    const restore = new StreamingRestore(this.#placeholders);
    const out = restore.push(text) + restore.end();
    this.findings.restored += restore.restored;
    return restore.restored > 0 ? Buffer.from(out) : body;
  }

  // ---- text

  #pushText(chunk: Buffer): Buffer {
    const text = this.#decoder!.write(chunk);
    if (this.#capture) this.#captureText(text);
    this.#textDetector!.push(text);
    if (!this.#textRestore) return chunk;
    const out = this.#textRestore.push(text);
    return out.length === 0 ? EMPTY : Buffer.from(out);
  }

  #endText(): Buffer {
    const text = this.#decoder!.end();
    if (this.#capture) this.#captureText(text);
    this.#textDetector!.push(text);
    this.#textDetector!.end();
    if (!this.#textRestore) return EMPTY;
    const out = this.#textRestore.push(text) + this.#textRestore.end();
    this.findings.restored += this.#textRestore.restored;
    return out.length === 0 ? EMPTY : Buffer.from(out);
  }
}

/** The scanner as a Node Transform: chunks in, what push()/end() return out. */
export function responseTransform(scanner: ResponseScanner): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      const out = scanner.push(chunk);
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback: TransformCallback): void {
      const out = scanner.end();
      callback(null, out.length > 0 ? out : undefined);
    },
  });
}
