// Which strings of a request body carry content, per API: OpenAI chat completions, the OpenAI
// Responses API, Anthropic messages, and a fallback for any other JSON (every string except
// identifiers). The walk records each content string with where it sits (so redaction can write it
// back), who wrote it (system, user, tool result... for the injection guard), and the tools the
// request offers and the tool calls its history holds (for the tool guard). Iterative: nesting
// depth costs heap, never stack.
import type { ProviderType } from '../../../api/src/policy/index.ts';

export type ApiShape = 'openai-chat' | 'openai-responses' | 'anthropic-messages' | 'generic';

export type SegmentKind =
  'system' | 'user' | 'assistant' | 'tool-result' | 'tool-args' | 'document' | 'other';

type Container = Record<string, unknown> | unknown[];

export interface Segment {
  holder: Container;
  key: string | number;
  text: string;
  kind: SegmentKind;
  /** Index of the message (or input item) it belongs to; -1 outside messages. */
  message: number;
  /** Index into `embedded` when the string sits inside JSON-encoded tool arguments; -1 otherwise. */
  embedded: number;
}

/** Tool arguments sent as a JSON string (OpenAI): parsed to scan, re-encoded when redacted. */
export interface Embedded {
  holder: Container;
  key: string | number;
  value: unknown;
}

export interface ToolCallSeen {
  name: string;
  /** The parsed arguments (object), or the raw text when they are not JSON. */
  args: unknown;
}

export interface Walk {
  segments: Segment[];
  embedded: Embedded[];
  /** Tools the request offers the model (definitions), by name. */
  toolsOffered: string[];
  /** Tool calls in the conversation history, and a forced `tool_choice`. */
  toolCalls: ToolCallSeen[];
  /** Images, audio, files and data URIs: not text, not scanned, counted. */
  binary: number;
  /** Characters of content text (for the token estimate). */
  chars: number;
  /** Index of the last message (or input item) the model wrote: what follows is the new turn. */
  lastModelMessage: number;
}

/** The API a request speaks, from the provider type and the request path. */
export function apiShapeOf(type: ProviderType, path: string): ApiShape {
  const p = path.replace(/\/+$/, '');
  if (type === 'anthropic') return p.endsWith('/messages') ? 'anthropic-messages' : 'generic';
  if (type === 'openai' || type === 'azure-openai' || type === 'generic') {
    if (p.endsWith('/chat/completions')) return 'openai-chat';
    if (p.endsWith('/responses')) return 'openai-responses';
  }
  return 'generic';
}

/** Keys whose string values identify or configure rather than carry content. */
const IDENTIFIER_KEYS = new Set([
  'model',
  'id',
  'object',
  'type',
  'role',
  'name',
  'tool_call_id',
  'tool_use_id',
  'call_id',
  'item_id',
  'previous_response_id',
  'response_id',
  'system_fingerprint',
  'finish_reason',
  'stop_reason',
  'stop_sequence',
  'media_type',
  'detail',
  'format',
  'encoding_format',
  'service_tier',
  'reasoning_effort',
  'anthropic_version',
  'modelId',
  'signature',
  'cache_control',
  'status',
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function kindOfRole(role: unknown): SegmentKind {
  switch (role) {
    case 'system':
    case 'developer':
      return 'system';
    case 'assistant':
    case 'model':
      return 'assistant';
    case 'tool':
    case 'function':
    case 'ipython':
      return 'tool-result';
    default:
      return 'user';
  }
}

const SYSTEM_KEYS = new Set(['system', 'systemInstruction', 'system_instruction', 'instructions']);

class Walker implements Walk {
  segments: Segment[] = [];
  embedded: Embedded[] = [];
  toolsOffered: string[] = [];
  toolCalls: ToolCallSeen[] = [];
  binary = 0;
  chars = 0;
  lastModelMessage = -1;

  text(holder: Container, key: string | number, kind: SegmentKind, message: number, embedded = -1): void {
    const value = (holder as Record<string | number, unknown>)[key];
    if (typeof value !== 'string') {
      if (value !== undefined && value !== null) this.any(value, kind, message, embedded);
      return;
    }
    if (value.startsWith('data:') && value.length > 64) {
      this.binary++;
      return;
    }
    this.chars += value.length;
    if (value.length > 0) this.segments.push({ holder, key, text: value, kind, message, embedded });
  }

  /**
   * Every string under `root`, except identifiers (fallback for unknown shapes, tool inputs and
   * arguments). Objects with a `role` take their kind from it.
   */
  any(root: unknown, kind: SegmentKind, message: number, embedded = -1): void {
    const stack: [unknown, SegmentKind][] = [[root, kind]];
    while (stack.length > 0) {
      const [node, nodeKind] = stack.pop()!;
      if (Array.isArray(node)) {
        for (let i = node.length - 1; i >= 0; i--) {
          const item: unknown = node[i];
          if (typeof item === 'string') this.text(node, i, nodeKind, message, embedded);
          else if (item !== null && typeof item === 'object') stack.push([item, nodeKind]);
        }
      } else if (isRecord(node)) {
        if (this.binaryBlock(node)) continue;
        const own = typeof node.role === 'string' ? kindOfRole(node.role) : nodeKind;
        for (const key of Object.keys(node)) {
          const value = node[key];
          if (typeof value === 'string') {
            if (!IDENTIFIER_KEYS.has(key))
              this.text(node, key, SYSTEM_KEYS.has(key) ? 'system' : own, message, embedded);
          } else if (value !== null && typeof value === 'object') {
            stack.push([value, SYSTEM_KEYS.has(key) ? 'system' : own]);
          }
        }
      }
    }
  }

  /** Images, audio and files, in the shapes the three APIs use. */
  binaryBlock(block: Record<string, unknown>): boolean {
    const type = block.type;
    if (
      type === 'image_url' ||
      type === 'input_image' ||
      type === 'input_audio' ||
      type === 'image' ||
      type === 'input_file' ||
      type === 'file'
    ) {
      // A text document (`{type: 'document', source: {type: 'text'}}`) is content, handled by the caller.
      this.binary++;
      return true;
    }
    return false;
  }

  /** OpenAI-style content: a string, or parts `[{type: 'text' | 'input_text' | 'output_text', text}]`. */
  content(holder: Container, key: string | number, kind: SegmentKind, message: number): void {
    const content = (holder as Record<string | number, unknown>)[key];
    if (typeof content === 'string') {
      this.text(holder, key, kind, message);
      return;
    }
    if (!Array.isArray(content)) {
      if (content !== undefined && content !== null) this.any(content, kind, message);
      return;
    }
    for (let i = 0; i < content.length; i++) {
      const part: unknown = content[i];
      if (typeof part === 'string') this.text(content, i, kind, message);
      else if (isRecord(part)) this.block(part, kind, message);
    }
  }

  /** One content block or part (OpenAI parts, Responses items' content, Anthropic blocks). */
  block(part: Record<string, unknown>, kind: SegmentKind, message: number): void {
    if (this.binaryBlock(part)) return;
    switch (part.type) {
      case 'text':
      case 'input_text':
      case 'output_text':
      case 'refusal':
        if (typeof part.text === 'string') this.text(part, 'text', kind, message);
        else if (typeof part.refusal === 'string') this.text(part, 'refusal', kind, message);
        else this.any(part, kind, message);
        return;
      case 'tool_use':
      case 'server_tool_use':
        if (typeof part.name === 'string') this.toolCalls.push({ name: part.name, args: part.input });
        if (part.input !== undefined) this.any(part.input, 'tool-args', message);
        return;
      case 'tool_result':
      case 'web_search_tool_result':
        this.content(part, 'content', 'tool-result', message);
        return;
      case 'document': {
        const source = part.source;
        if (isRecord(source) && source.type === 'base64') {
          this.binary++;
          return;
        }
        this.any(part, 'document', message);
        return;
      }
      case 'thinking':
        if (typeof part.thinking === 'string') this.text(part, 'thinking', 'assistant', message);
        return;
      case 'redacted_thinking':
        return;
      default:
        this.any(part, kind, message);
    }
  }

  /** A JSON-encoded arguments string: its string values, written back re-encoded if redacted. */
  arguments(holder: Record<string, unknown>, key: string, message: number): void {
    const raw = holder[key];
    if (typeof raw !== 'string') {
      if (raw !== undefined) this.any(raw, 'tool-args', message);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.text(holder, key, 'tool-args', message);
      return;
    }
    if (parsed === null || typeof parsed !== 'object') {
      this.text(holder, key, 'tool-args', message);
      return;
    }
    this.embedded.push({ holder, key, value: parsed });
    this.any(parsed, 'tool-args', message, this.embedded.length - 1);
    return;
  }

  tools(body: Record<string, unknown>): void {
    const tools = body.tools;
    if (Array.isArray(tools)) {
      for (const tool of tools) {
        if (!isRecord(tool)) continue;
        const fn = tool.function;
        const name = isRecord(fn) ? fn.name : tool.name;
        if (typeof name === 'string') this.toolsOffered.push(name);
        else if (typeof tool.type === 'string' && tool.type !== 'function') this.toolsOffered.push(tool.type);
      }
    }
    const functions = body.functions; // legacy OpenAI function calling
    if (Array.isArray(functions)) {
      for (const fn of functions)
        if (isRecord(fn) && typeof fn.name === 'string') this.toolsOffered.push(fn.name);
    }
    const choice = body.tool_choice;
    if (isRecord(choice)) {
      const fn = choice.function;
      const name = isRecord(fn) ? fn.name : choice.name;
      if (typeof name === 'string') this.toolCalls.push({ name, args: undefined });
    }
  }

  /** Fields outside the conversation that may still carry personal data. */
  extras(body: Record<string, unknown>): void {
    if (typeof body.user === 'string') this.text(body, 'user', 'other', -1);
    if (body.metadata !== undefined) this.any(body.metadata, 'other', -1);
  }

  openAiChat(body: Record<string, unknown>): void {
    const messages = body.messages;
    if (!Array.isArray(messages)) return this.any(body, 'other', -1);
    for (let m = 0; m < messages.length; m++) {
      const message: unknown = messages[m];
      if (!isRecord(message)) continue;
      const kind = kindOfRole(message.role);
      if (kind === 'assistant') this.lastModelMessage = m;
      this.content(message, 'content', kind, m);
      if (typeof message.refusal === 'string') this.text(message, 'refusal', kind, m);
      const calls = message.tool_calls;
      if (Array.isArray(calls)) {
        for (const call of calls) {
          const fn = isRecord(call) ? call.function : undefined;
          if (!isRecord(fn)) continue;
          if (typeof fn.name === 'string') this.toolCalls.push({ name: fn.name, args: fn.arguments });
          this.arguments(fn, 'arguments', m);
        }
      }
      const legacy = message.function_call;
      if (isRecord(legacy)) {
        if (typeof legacy.name === 'string')
          this.toolCalls.push({ name: legacy.name, args: legacy.arguments });
        this.arguments(legacy, 'arguments', m);
      }
    }
    this.tools(body);
    this.extras(body);
    if (body.prediction !== undefined) this.any(body.prediction, 'other', -1);
  }

  openAiResponses(body: Record<string, unknown>): void {
    if (typeof body.instructions === 'string') this.text(body, 'instructions', 'system', -1);
    const input = body.input;
    if (typeof input === 'string') this.text(body, 'input', 'user', 0);
    else if (Array.isArray(input)) {
      for (let m = 0; m < input.length; m++) {
        const item: unknown = input[m];
        if (typeof item === 'string') {
          this.text(input, m, 'user', m);
          continue;
        }
        if (!isRecord(item)) continue;
        switch (item.type) {
          case 'function_call':
          case 'custom_tool_call':
            this.lastModelMessage = m;
            if (typeof item.name === 'string')
              this.toolCalls.push({ name: item.name, args: item.arguments ?? item.input });
            if (item.type === 'function_call') this.arguments(item, 'arguments', m);
            else this.text(item, 'input', 'tool-args', m);
            break;
          case 'function_call_output':
          case 'custom_tool_call_output':
            this.content(item, 'output', 'tool-result', m);
            break;
          case 'reasoning':
            break;
          default:
            if (kindOfRole(item.role) === 'assistant') this.lastModelMessage = m;
            if ('content' in item) this.content(item, 'content', kindOfRole(item.role), m);
            else this.any(item, 'user', m);
        }
      }
    } else if (input !== undefined) this.any(input, 'user', 0);
    this.tools(body);
    this.extras(body);
  }

  anthropicMessages(body: Record<string, unknown>): void {
    if (body.system !== undefined) this.content(body, 'system', 'system', -1);
    const messages = body.messages;
    if (!Array.isArray(messages)) return this.any(body, 'other', -1);
    for (let m = 0; m < messages.length; m++) {
      const message: unknown = messages[m];
      if (!isRecord(message)) continue;
      const kind = kindOfRole(message.role);
      if (kind === 'assistant') this.lastModelMessage = m;
      this.content(message, 'content', kind, m);
    }
    this.tools(body);
    this.extras(body);
  }
}

/**
 * Walks a parsed request body, held in `box.body` so that a bare string body can be rewritten too.
 * Bodies that are not objects (arrays, strings) are walked as generic JSON.
 */
export function walkRequest(box: { body: unknown }, shape: ApiShape): Walk {
  const walker = new Walker();
  const body = box.body;
  if (!isRecord(body)) walker.any(box, 'other', -1);
  else if (shape === 'openai-chat') walker.openAiChat(body);
  else if (shape === 'openai-responses') walker.openAiResponses(body);
  else if (shape === 'anthropic-messages') walker.anthropicMessages(body);
  else {
    walker.any(body, 'other', -1);
    walker.tools(body);
  }
  return walker;
}
