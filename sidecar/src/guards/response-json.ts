// A whole (non-streamed) response body: the texts the model wrote and the tool calls it made, per
// API shape, and placeholders put back into every string of it.
import type { ToolCallSeen } from './shapes.ts';
import type { StreamingRestore } from './stream-text.ts';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ResponseContent {
  texts: string[];
  calls: ToolCallSeen[];
}

function partsText(content: unknown, texts: string[]): void {
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    for (const part of content as unknown[]) {
      if (isRecord(part) && typeof part.text === 'string') texts.push(part.text);
    }
  }
}

/** Every string under `value` (for shapes this module does not know). */
function allStrings(value: unknown, texts: string[]): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') texts.push(node);
    else if (Array.isArray(node)) stack.push(...(node as unknown[]));
    else if (isRecord(node)) for (const v of Object.values(node)) stack.push(v);
  }
}

/** Texts and tool calls of an OpenAI chat completion, a Responses API response, an Anthropic message or a Gemini response. */
export function responseContent(payload: unknown): ResponseContent {
  const texts: string[] = [];
  const calls: ToolCallSeen[] = [];
  if (!isRecord(payload)) {
    allStrings(payload, texts);
    return { texts, calls };
  }
  if (Array.isArray(payload.choices)) {
    for (const choice of payload.choices as unknown[]) {
      const message = isRecord(choice) ? (choice.message ?? choice.delta) : undefined;
      if (!isRecord(message)) continue;
      partsText(message.content, texts);
      if (typeof message.refusal === 'string') texts.push(message.refusal);
      if (typeof (choice as Record<string, unknown>).text === 'string')
        texts.push((choice as { text: string }).text);
      const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]) : [];
      for (const call of toolCalls) {
        const fn = isRecord(call) ? call.function : undefined;
        if (isRecord(fn) && typeof fn.name === 'string') {
          calls.push({ name: fn.name, args: fn.arguments });
          if (typeof fn.arguments === 'string') texts.push(fn.arguments);
        }
      }
    }
  } else if (Array.isArray(payload.output)) {
    for (const item of payload.output as unknown[]) {
      if (!isRecord(item)) continue;
      if (item.type === 'function_call' && typeof item.name === 'string') {
        calls.push({ name: item.name, args: item.arguments });
        if (typeof item.arguments === 'string') texts.push(item.arguments);
      } else partsText(item.content, texts);
    }
  } else if (Array.isArray(payload.content)) {
    for (const block of payload.content as unknown[]) {
      if (!isRecord(block)) continue;
      if (block.type === 'tool_use' && typeof block.name === 'string') {
        calls.push({ name: block.name, args: block.input });
        allStrings(block.input, texts);
      } else if (typeof block.text === 'string') texts.push(block.text);
    }
  } else if (Array.isArray(payload.candidates)) {
    for (const candidate of payload.candidates as unknown[]) {
      const content = isRecord(candidate) ? candidate.content : undefined;
      const parts = isRecord(content) && Array.isArray(content.parts) ? (content.parts as unknown[]) : [];
      for (const part of parts) {
        if (!isRecord(part)) continue;
        if (typeof part.text === 'string') texts.push(part.text);
        const call = part.functionCall;
        if (isRecord(call) && typeof call.name === 'string') calls.push({ name: call.name, args: call.args });
      }
    }
  } else {
    allStrings(payload, texts);
  }
  return { texts, calls };
}

/** Keys whose string value is itself JSON (tool arguments): restored values are escaped for it. */
const JSON_IN_STRING = new Set(['arguments', 'partial_json']);

/**
 * Restores placeholders in every string of `value`, in place; `plain` restores text, `json`
 * restores inside JSON-encoded strings (tool arguments). Returns the (possibly new) root.
 */
export function restoreStrings(value: unknown, plain: StreamingRestore, json: StreamingRestore): unknown {
  if (typeof value === 'string') return plain.push(value) + plain.end();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === 'string') node[i] = plain.push(item) + plain.end();
        else if (item !== null && typeof item === 'object') stack.push(item);
      }
    } else if (isRecord(node)) {
      for (const key of Object.keys(node)) {
        const item = node[key];
        if (typeof item === 'string') {
          const restore = JSON_IN_STRING.has(key) ? json : plain;
          node[key] = restore.push(item) + restore.end();
        } else if (item !== null && typeof item === 'object') stack.push(item);
      }
    }
  }
  return value;
}
