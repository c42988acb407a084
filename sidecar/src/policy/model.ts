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
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== CLOSE_BRACE) {
    const end = stringEnd(text, i);
    // Without a backslash the key is its characters; only escaped keys need decoding.
    const raw = text.slice(i + 1, end - 1);
    const key = (raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw).toLowerCase();
    if (seen.has(key)) return key;
    seen.add(key);
    i = skipSpace(text, end);
    i = skipValue(text, skipSpace(text, i + 1)); // past ':' and the value
    i = skipSpace(text, i);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return undefined;
}

const [QUOTE, BACKSLASH, COMMA] = [0x22, 0x5c, 0x2c];
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [0x7b, 0x7d, 0x5b, 0x5d];

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string literal starting at `i` (which is a `"`). */
function stringEnd(text: string, i: number): number {
  // Jumps from quote to quote; one is the end when an even number of backslashes precedes it.
  for (let q = text.indexOf('"', i + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let escapes = 0;
    while (text.charCodeAt(q - 1 - escapes) === BACKSLASH) escapes++;
    if (escapes % 2 === 0) return q + 1;
  }
  return text.length;
}

/** Index just past the JSON value starting at `i`. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) {
      j = stringEnd(text, j) - 1;
      if (depth === 0) return j + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return j;
      depth--;
      if (depth === 0) return j + 1;
    } else if (depth === 0 && (c === COMMA || isSpace(c))) return j;
  }
  return text.length;
}
