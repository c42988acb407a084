// Token usage read from responses as they stream past, without holding them back: the JSON body of
// a non-streaming response (kept up to 1 MiB), or the `usage` objects of an SSE stream (OpenAI's
// final chunk, Anthropic's message_start and message_delta). Feeds tokensPerMinute and the audit.
import { StringDecoder } from 'node:string_decoder';
import { skipValue } from '../policy/json-scan.ts';

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  responseModel?: string;
}

const MAX_JSON_BYTES = 1_048_576;

interface UsageFields {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  input_tokens?: unknown;
  output_tokens?: unknown;
}

const int = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function absorb(target: Usage, payload: unknown): void {
  if (payload === null || typeof payload !== 'object') return;
  const record = payload as { usage?: UsageFields; model?: unknown; message?: unknown };
  if (typeof record.model === 'string') target.responseModel = record.model;
  const usage = record.usage;
  if (usage && typeof usage === 'object') {
    const input = int(usage.prompt_tokens) ?? int(usage.input_tokens);
    const output = int(usage.completion_tokens) ?? int(usage.output_tokens);
    if (input !== undefined) target.inputTokens = input;
    if (output !== undefined) target.outputTokens = output;
  }
  // Anthropic's message_start wraps the message (and its usage) one level down.
  if (record.message && typeof record.message === 'object') absorb(target, record.message);
}

/**
 * The fast path for a JSON body: parse only the last `"usage"` object and read the first
 * `"model"` string, rather than the whole response. An unescaped `"usage"` can only be a key (in
 * JSON text, quotes inside strings are escaped). False when the body does not look as expected.
 */
export function readTopLevelUsage(target: Usage, text: string): boolean {
  const key = text.lastIndexOf('"usage"');
  if (key < 0) return false;
  const open = text.indexOf('{', key);
  if (open < 0 || !/^"usage"\s*:\s*$/.test(text.slice(key, open))) return false;
  try {
    // Unterminated, the slice runs to the end of the text and does not parse.
    absorb(target, { usage: JSON.parse(text.slice(open, skipValue(text, open))) as unknown });
  } catch {
    return false;
  }
  const model = /"model"\s*:\s*"((?:[^"\\]|\\.){1,256})"/.exec(text);
  if (model) target.responseModel = JSON.parse(`"${model[1]}"`) as string;
  return true;
}

export class UsageScanner {
  readonly usage: Usage = {};
  readonly #kind: 'json' | 'sse';
  #chunks: Buffer[] = [];
  #bytes = 0;
  #partial = '';
  readonly #decoder = new StringDecoder('utf8');

  constructor(kind: 'json' | 'sse') {
    this.#kind = kind;
  }

  /** Which scanner suits a response, if any (encoded bodies are not decoded for this). */
  static for(contentType: string | undefined, contentEncoding: string | undefined): UsageScanner | undefined {
    if (contentEncoding !== undefined && contentEncoding !== 'identity') return undefined;
    if (contentType === undefined) return undefined;
    if (contentType.startsWith('text/event-stream')) return new UsageScanner('sse');
    if (contentType.startsWith('application/json')) return new UsageScanner('json');
    return undefined;
  }

  push(chunk: Buffer): void {
    if (this.#kind === 'json') {
      this.#bytes += chunk.length;
      if (this.#bytes <= MAX_JSON_BYTES) this.#chunks.push(chunk);
      else this.#chunks = [];
      return;
    }
    const text = this.#partial + this.#decoder.write(chunk);
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.#partial = text.length > MAX_JSON_BYTES ? '' : text;
      return;
    }
    this.#partial = text.slice(lastNewline + 1);
    // Only events that carry usage are parsed (plus the first naming the model), not every chunk.
    const wantModel = this.usage.responseModel === undefined;
    if (!text.includes('"usage"') && !(wantModel && text.includes('"model"'))) return;
    for (const line of text.slice(0, lastNewline).split('\n')) {
      if (!line.startsWith('data:')) continue;
      if (!line.includes('"usage"') && !(this.usage.responseModel === undefined && line.includes('"model"')))
        continue;
      try {
        absorb(this.usage, JSON.parse(line.slice(5)));
      } catch {
        // not JSON: nothing to count
      }
    }
  }

  /**
   * The JSON body, parsed by the response guard: usage is read from it, and end() decodes nothing.
   * Read in full, as end() reads a body whose last `"usage"` is not where the fast path expects.
   */
  take(payload: unknown): void {
    if (this.#kind !== 'json' || this.#bytes > MAX_JSON_BYTES) return;
    absorb(this.usage, payload);
    this.#chunks = [];
  }

  end(): Usage {
    if (this.#kind === 'json' && this.#chunks.length > 0 && this.#bytes <= MAX_JSON_BYTES) {
      const text = (this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks)).toString(
        'utf8',
      );
      this.#chunks = [];
      if (!readTopLevelUsage(this.usage, text)) {
        try {
          absorb(this.usage, JSON.parse(text));
        } catch {
          // not JSON after all
        }
      }
    }
    return this.usage;
  }
}
