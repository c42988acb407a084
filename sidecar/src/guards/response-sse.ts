// The events of a streamed response, per API: which text delta belongs to which stream (a choice,
// a content block, an output item), which events start and finish a tool call, and where text
// held back for a placeholder goes when its stream ends. Understands OpenAI chat completion
// chunks, Responses API events, Anthropic message events and Gemini candidates.
import type { DetectorSet } from './detect/types.ts';
import type { ResponseFindings } from './findings.ts';
import type { Placeholders } from './placeholders.ts';
import { restoreStrings } from './response-json.ts';
import type { SseEvent } from './sse.ts';
import { StreamingDetector, StreamingRestore, jsonEscape } from './stream-text.ts';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' ? v : fallback);

/** Arguments kept per call, for the argument rules (more is not kept). */
const MAX_ARGS = 1_048_576;

export interface ToolHooks {
  toolStarted(name: string): void;
  toolFinished(name: string, args: string): void;
  /** Every text delta as the provider sent it (for audit content), when wanted. */
  text?(delta: string): void;
}

interface Stream {
  detector: StreamingDetector;
  restore: StreamingRestore | undefined;
  /** Rebuilds an event carrying `text` for this stream (for held text when it ends). */
  carrier: (text: string) => string;
}

export class SseStreams {
  readonly #detectors: DetectorSet;
  readonly #findings: ResponseFindings;
  readonly #placeholders: Placeholders | undefined;
  readonly #hooks: ToolHooks;
  readonly #streams = new Map<string, Stream>();
  readonly #tools = new Map<string, { name: string; args: string; done: boolean }>();
  readonly #ended: StreamingRestore[] = [];
  #modified = false;

  constructor(
    detectors: DetectorSet,
    findings: ResponseFindings,
    placeholders: Placeholders | undefined,
    hooks: ToolHooks,
  ) {
    this.#detectors = detectors;
    this.#findings = findings;
    this.#placeholders = placeholders;
    this.#hooks = hooks;
  }

  /** Handles one event; returns the text to forward for it (its raw text unless it changed). */
  event(e: SseEvent): string {
    if (e.data === '') return e.raw;
    if (e.data === '[DONE]') return this.#endAll() + e.raw;
    let payload: unknown;
    try {
      payload = JSON.parse(e.data);
    } catch {
      return e.raw;
    }
    if (!isRecord(payload)) return e.raw;
    this.#modified = false;
    let before = '';
    if (Array.isArray(payload.choices)) before = this.#openAiChat(payload);
    else if (typeof payload.type === 'string' && payload.type.startsWith('response.'))
      before = this.#responses(payload);
    else if (typeof payload.type === 'string') before = this.#anthropic(payload);
    else if (Array.isArray(payload.candidates)) this.#gemini(payload);
    else this.#restoreAll(payload);
    if (!this.#modified) return before + e.raw;
    // Other fields (event:, id:) are kept; the data is rewritten.
    const fields = e.raw
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('data:'))
      .map((line) => `${line.replace(/\r$/, '')}\n`)
      .join('');
    return `${before}${fields}data: ${JSON.stringify(payload)}\n\n`;
  }

  /** The response ended: held text is emitted, detectors finish, tool calls finish. */
  end(): string {
    const out = this.#endAll();
    for (const [key, tool] of this.#tools) if (!tool.done) this.#finishTool(key);
    this.#findings.restored = this.#ended.reduce((n, r) => n + r.restored, 0);
    return out;
  }

  // ---- streams

  #stream(key: string, json: boolean, carrier: (text: string) => string): Stream {
    let stream = this.#streams.get(key);
    if (!stream) {
      const restore = this.#placeholders
        ? new StreamingRestore(this.#placeholders, json ? jsonEscape : undefined)
        : undefined;
      if (restore) this.#ended.push(restore);
      stream = {
        detector: new StreamingDetector(this.#detectors, this.#findings.detected),
        restore,
        carrier,
      };
      this.#streams.set(key, stream);
    }
    return stream;
  }

  /** A text delta at holder[field]: detected, and restored in place. */
  #text(key: string, holder: Json, field: string, json: boolean, carrier: (text: string) => string): void {
    const value = holder[field];
    if (typeof value !== 'string') return;
    const stream = this.#stream(key, json, carrier);
    this.#hooks.text?.(value);
    stream.detector.push(value);
    if (!stream.restore) return;
    const out = stream.restore.push(value);
    if (out !== value) {
      holder[field] = out;
      this.#modified = true;
    }
  }

  /** The stream is over: its detector finishes; held text comes back (to go out before the next event). */
  #endStream(key: string): string {
    const stream = this.#streams.get(key);
    if (!stream) return '';
    this.#streams.delete(key);
    stream.detector.end();
    const held = stream.restore?.holding ? stream.restore.end() : '';
    return held === '' ? '' : stream.carrier(held);
  }

  #endAll(): string {
    let out = '';
    for (const key of [...this.#streams.keys()]) out += this.#endStream(key);
    return out;
  }

  #restoreAll(payload: Json): void {
    if (!this.#placeholders) return;
    const plain = new StreamingRestore(this.#placeholders);
    const json = new StreamingRestore(this.#placeholders, jsonEscape);
    restoreStrings(payload, plain, json);
    if (plain.restored + json.restored > 0) {
      this.#ended.push(plain, json);
      this.#modified = true;
    }
  }

  // ---- tools

  #startTool(key: string, name: string): void {
    if (this.#tools.has(key)) return;
    this.#tools.set(key, { name, args: '', done: false });
    this.#hooks.toolStarted(name);
  }

  #appendArgs(key: string, fragment: unknown): void {
    const tool = this.#tools.get(key);
    if (tool && typeof fragment === 'string' && tool.args.length < MAX_ARGS) tool.args += fragment;
  }

  #finishTool(key: string): void {
    const tool = this.#tools.get(key);
    if (!tool || tool.done) return;
    tool.done = true;
    this.#hooks.toolFinished(tool.name, tool.args);
  }

  // ---- OpenAI chat completion chunks

  #openAiChat(payload: Json): string {
    let before = '';
    const template = {
      id: payload.id,
      object: payload.object,
      created: payload.created,
      model: payload.model,
    };
    const chunk = (i: number, delta: Json): string =>
      `data: ${JSON.stringify({ ...template, choices: [{ index: i, delta, finish_reason: null }] })}\n\n`;
    for (const choice of payload.choices as unknown[]) {
      if (!isRecord(choice)) continue;
      const i = num(choice.index);
      const delta = isRecord(choice.delta) ? choice.delta : undefined;
      if (delta) {
        this.#text(`c${i}`, delta, 'content', false, (text) => chunk(i, { content: text }));
        this.#text(`r${i}`, delta, 'refusal', false, (text) => chunk(i, { refusal: text }));
        const calls = Array.isArray(delta.tool_calls) ? (delta.tool_calls as unknown[]) : [];
        for (const call of calls) {
          if (!isRecord(call) || !isRecord(call.function)) continue;
          const j = num(call.index);
          const key = `a${i}.${j}`;
          const fn = call.function;
          if (typeof fn.name === 'string' && fn.name !== '') this.#startTool(key, fn.name);
          this.#appendArgs(key, fn.arguments);
          this.#text(key, fn, 'arguments', true, (text) =>
            chunk(i, { tool_calls: [{ index: j, function: { arguments: text } }] }),
          );
        }
      }
      if (choice.finish_reason === null || choice.finish_reason === undefined) continue;
      // The choice is complete: held text rides on this chunk, its tool calls finish.
      const carrier = delta ?? (choice.delta = {} as Json);
      for (const key of [`c${i}`, `r${i}`]) {
        const stream = this.#streams.get(key);
        const held = stream?.restore?.holding ? stream.restore.end() : '';
        if (held !== '') {
          const field = key.startsWith('c') ? 'content' : 'refusal';
          const existing = carrier[field];
          carrier[field] = (typeof existing === 'string' ? existing : '') + held;
          this.#modified = true;
        }
        if (stream) this.#endStream(key);
      }
      for (const key of [...this.#tools.keys()].filter((k) => k.startsWith(`a${i}.`))) {
        before += this.#endStream(key);
        this.#finishTool(key);
      }
    }
    return before;
  }

  // ---- Responses API events

  #responses(payload: Json): string {
    const type = payload.type as string;
    const out = num(payload.output_index);
    const part = num(payload.content_index);
    const delta = (eventType: string, extra: Json) => (text: string) =>
      `event: ${eventType}\ndata: ${JSON.stringify({ type: eventType, item_id: payload.item_id, output_index: out, ...extra, delta: text })}\n\n`;
    switch (type) {
      case 'response.output_text.delta':
        this.#text(`o${out}.${part}`, payload, 'delta', false, delta(type, { content_index: part }));
        return '';
      case 'response.refusal.delta':
        this.#text(`r${out}.${part}`, payload, 'delta', false, delta(type, { content_index: part }));
        return '';
      case 'response.function_call_arguments.delta':
        this.#appendArgs(`f${out}`, payload.delta);
        this.#text(`f${out}`, payload, 'delta', true, delta(type, {}));
        return '';
      case 'response.output_item.added': {
        const item = payload.item;
        if (isRecord(item) && item.type === 'function_call' && typeof item.name === 'string')
          this.#startTool(`f${out}`, item.name);
        return '';
      }
      case 'response.output_text.done':
      case 'response.refusal.done':
      case 'response.function_call_arguments.done': {
        const key = type.startsWith('response.function')
          ? `f${out}`
          : `${type.includes('refusal') ? 'r' : 'o'}${out}.${part}`;
        const before = this.#endStream(key);
        if (key.startsWith('f')) this.#finishTool(key);
        this.#restoreAll(payload); // the full text again: restored, not counted twice
        return before;
      }
      default:
        this.#restoreAll(payload);
        return '';
    }
  }

  // ---- Anthropic message events

  #anthropic(payload: Json): string {
    const index = num(payload.index);
    const key = `b${index}`;
    const carrier =
      (json: boolean) =>
      (text: string): string =>
        `event: content_block_delta\ndata: ${JSON.stringify({
          type: 'content_block_delta',
          index,
          delta: json ? { type: 'input_json_delta', partial_json: text } : { type: 'text_delta', text },
        })}\n\n`;
    switch (payload.type) {
      case 'content_block_start': {
        const block = payload.content_block;
        if (!isRecord(block)) return '';
        if (
          (block.type === 'tool_use' || block.type === 'server_tool_use') &&
          typeof block.name === 'string'
        ) {
          this.#startTool(key, block.name);
        }
        this.#text(key, block, 'text', false, carrier(false));
        return '';
      }
      case 'content_block_delta': {
        const delta = payload.delta;
        if (!isRecord(delta)) return '';
        if (delta.type === 'text_delta') this.#text(key, delta, 'text', false, carrier(false));
        else if (delta.type === 'input_json_delta') {
          this.#appendArgs(key, delta.partial_json);
          this.#text(key, delta, 'partial_json', true, carrier(true));
        } else if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') {
          // Signed by the provider: scanned, never changed.
          this.#stream(`k${index}`, false, () => '').detector.push(delta.thinking);
        }
        return '';
      }
      case 'content_block_stop': {
        const before = this.#endStream(key) + this.#endStream(`k${index}`);
        this.#finishTool(key);
        return before;
      }
      default:
        this.#restoreAll(payload);
        return '';
    }
  }

  // ---- Gemini candidates

  #gemini(payload: Json): void {
    for (const candidate of payload.candidates as unknown[]) {
      if (!isRecord(candidate) || !isRecord(candidate.content)) continue;
      const i = num(candidate.index);
      const parts = Array.isArray(candidate.content.parts) ? (candidate.content.parts as unknown[]) : [];
      for (const part of parts) {
        if (!isRecord(part)) continue;
        this.#text(
          `g${i}`,
          part,
          'text',
          false,
          (text) =>
            `data: ${JSON.stringify({ candidates: [{ index: i, content: { role: 'model', parts: [{ text }] } }] })}\n\n`,
        );
        const call = part.functionCall;
        if (isRecord(call) && typeof call.name === 'string') {
          const key = `g${i}.${this.#tools.size}`;
          this.#startTool(key, call.name);
          this.#appendArgs(key, JSON.stringify(call.args ?? {}));
          this.#finishTool(key);
        }
      }
    }
  }
}
