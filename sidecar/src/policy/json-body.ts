// A request body decoded and parsed as JSON at most once, shared by the steps that read it: the
// model rule (policy/model.ts), then the guards (guards/inspect.ts). Each used to decode and parse
// the body on its own — twice per guarded request, on prompts that run to hundreds of KB.

export type ParsedJson = { ok: true; value: unknown } | { ok: false };

export class JsonBody {
  readonly bytes: Buffer;
  #text: string | undefined;
  #parsed: ParsedJson | undefined;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** The body as UTF-8 text (invalid sequences become U+FFFD, as Buffer#toString makes them). */
  get text(): string {
    return (this.#text ??= this.bytes.toString('utf8'));
  }

  /**
   * The parsed body. The same value is handed to every reader: the guards read it last and may
   * rewrite it in place (redaction), so earlier readers must not keep it.
   */
  parse(): ParsedJson {
    if (this.#parsed === undefined) {
      try {
        this.#parsed = { ok: true, value: JSON.parse(this.text) as unknown };
      } catch {
        this.#parsed = { ok: false };
      }
    }
    return this.#parsed;
  }
}
