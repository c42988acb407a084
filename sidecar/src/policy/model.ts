// Which model a request asks for: the `model` field of its JSON body, or for providers that name it
// in the path (Azure deployments, Bedrock, Vertex) the path segment. A body another parser could
// read differently (duplicate keys, also differing only in case as Go's encoding/json matches them)
// is reported as ambiguous, so an allowedModels rule refuses it instead of guessing.
import type { ProviderType } from '../../../api/src/policy/index.ts';
import { JsonBody } from './json-body.ts';
import { CLOSE_BRACE, COMMA, OPEN_BRACE, skipSpace, skipValue, stringEnd } from './json-scan.ts';

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
