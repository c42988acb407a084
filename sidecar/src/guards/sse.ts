// Server-sent events split incrementally from bytes that arrive in arbitrary chunks (a multi-byte
// character or a line may be cut anywhere). Each complete event keeps its raw text, so an event
// nobody changes is forwarded exactly as it came — which is why this is not eventsource-parser
// (already a dependency, used by the control client): it hands out parsed events, not their bytes.
import { StringDecoder } from 'node:string_decoder';

export interface SseEvent {
  /** The event's lines and the blank line that ended it, as received. */
  raw: string;
  /** The `event:` field, or undefined. */
  event: string | undefined;
  /** The `data:` lines joined by newlines. */
  data: string;
}

/** An event longer than this is passed on unparsed (and reported unscanned). */
export const MAX_EVENT_CHARS = 4 * 1024 * 1024;

export class SseSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  #raw = '';
  #event: string | undefined;
  #data: string[] = [];
  /** Set when an event outgrew MAX_EVENT_CHARS: its raw text was handed out unparsed. */
  overflowed = false;

  /** Complete events in `chunk` (and what came before it); `onOverflow` receives unparsed text. */
  push(chunk: Buffer, onEvent: (event: SseEvent) => void, onOverflow: (raw: string) => void): void {
    const text = this.#partial + this.#decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#line(text.slice(start, nl + 1), onEvent);
      start = nl + 1;
    }
    this.#partial = text.slice(start);
    if (this.#raw.length + this.#partial.length > MAX_EVENT_CHARS) {
      onOverflow(this.#raw + this.#partial);
      this.overflowed = true;
      this.#raw = '';
      this.#partial = '';
      this.#event = undefined;
      this.#data = [];
    }
  }

  /** The stream ended: a last event without its blank line is still handed out (raw as received). */
  end(onEvent: (event: SseEvent) => void): void {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    if (rest.length > 0) this.#line(rest, onEvent, true);
    if (this.#raw.length > 0) this.#flush(onEvent);
  }

  #line(rawLine: string, onEvent: (event: SseEvent) => void, last = false): void {
    this.#raw += rawLine;
    const line = rawLine.endsWith('\r\n')
      ? rawLine.slice(0, -2)
      : rawLine.endsWith('\n')
        ? rawLine.slice(0, -1)
        : rawLine;
    if (line === '' && !last) {
      this.#flush(onEvent);
      return;
    }
    if (line.startsWith(':')) return; // comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
  }

  #flush(onEvent: (event: SseEvent) => void): void {
    const event: SseEvent = { raw: this.#raw, event: this.#event, data: this.#data.join('\n') };
    this.#raw = '';
    this.#event = undefined;
    this.#data = [];
    onEvent(event);
  }
}
