// Which model a request asks for: the `model` field of its JSON body, or for providers that name it
// in the path (Azure deployments, Bedrock, Vertex) the path segment. A body another parser could
// read differently (duplicate keys, also differing only in case as Go's encoding/json matches them)
// is reported as ambiguous, so an allowedModels rule refuses it instead of guessing.
import type { ProviderType } from '../../../api/src/policy/index.ts';
import { JsonBody } from './json-body.ts';

export type ModelRead =
  | { kind: 'none' }
  | { kind: 'model'; model: string; source: 'body' | 'path' }
  | { kind: 'unreadable'; why: string };

const NONE: ModelRead = { kind: 'none' };

/** The model named in the path, for provider types whose URLs carry it. */
export function modelFromPath(type: ProviderType, path: string): string | undefined {
  let match: RegExpExecArray | null = null;
  if (type === 'azure-openai') match = /\/openai\/deployments\/([^/]+)\//.exec(path);
  else if (type === 'bedrock') match = /\/model\/([^/]+)\//.exec(path);
  else if (type === 'vertex') match = /\/models\/([^/:]+):/.exec(path);
  return match?.[1];
}

/**
 * Reads the model. `strict` (the provider has allowedModels) adds the duplicate-key scan and makes a
 * non-JSON or encoded body unreadable rather than "no model".
 */
export function readModel(
  type: ProviderType,
  path: string,
  body: Buffer | undefined,
  contentEncoding: string | undefined,
  strict: boolean,
  json: JsonBody | undefined = body && new JsonBody(body),
): ModelRead {
  const fromPath = modelFromPath(type, path);
  if (fromPath !== undefined) return { kind: 'model', model: fromPath, source: 'path' };
  if (body === undefined || body.length === 0 || json === undefined) return NONE;
  if (contentEncoding !== undefined && contentEncoding !== 'identity')
    return strict ? { kind: 'unreadable', why: `the body is ${contentEncoding}-encoded` } : NONE;
  const read = json.parse();
  if (!read.ok) return strict ? { kind: 'unreadable', why: 'the body is not JSON' } : NONE;
  const parsed = read.value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return strict ? { kind: 'unreadable', why: 'the body is not a JSON object' } : NONE;
  if (strict) {
    const duplicate = duplicateTopLevelKey(json.text);
    if (duplicate !== undefined)
      return { kind: 'unreadable', why: `the body repeats the key "${duplicate}" (case-insensitively)` };
  }
  const model = (parsed as Record<string, unknown>).model;
  if (model === undefined) return NONE;
  if (typeof model !== 'string') return { kind: 'unreadable', why: 'the "model" field is not a string' };
  return { kind: 'model', model, source: 'body' };
}

/**
 * The first top-level key that occurs twice, compared case-insensitively after JSON unescaping
 * (`"mod\u0065l"` is `model`). Expects text that JSON.parse accepted.
 */
export function duplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipSpace(text, i + 1);
  while (i < text.length && text[i] !== '}') {
    const end = stringEnd(text, i);
    const key = (JSON.parse(text.slice(i, end)) as string).toLowerCase();
    if (seen.has(key)) return key;
    seen.add(key);
    i = skipSpace(text, end);
    i = skipValue(text, skipSpace(text, i + 1)); // past ':' and the value
    i = skipSpace(text, i);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return undefined;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t'))
    i++;
  return i;
}

/** Index just past the string literal starting at `i` (which is a `"`). */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** Index just past the JSON value starting at `i`. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === '"') {
      j = stringEnd(text, j) - 1;
      if (depth === 0) return j + 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return j;
      depth--;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === ',' || c === ' ' || c === '\n' || c === '\r' || c === '\t')) return j;
  }
  return text.length;
}
