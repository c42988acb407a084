// What of the prompt and the response an audit record carries, per spec.audit.content. Metadata:
// nothing. Redacted: the text with every detector's matches replaced by placeholders — whatever
// the boundary's own action and detectors, so the audit trail never becomes a second way out for
// what the boundary keeps in. Full: everything, except credentials (the provider's keys, and what
// the secret and jwt detectors find). Bounded either way. Pure.
import { scanText } from './detect/scan.ts';
import { ALL_DETECTORS, detectorSet, type DetectorSet, type Match } from './detect/types.ts';
import { Placeholders, redactText } from './placeholders.ts';
import type { AuditContent } from './policy.ts';
import type { CapturedContent } from './response.ts';

/** Characters of content per audit field. */
export const AUDIT_CONTENT_CHARS = 16_384;
/** What the response scanner should capture: more than the field, so a value cut at the end is still whole when redacted. */
export const AUDIT_CAPTURE_CHARS = AUDIT_CONTENT_CHARS + 1024;
/** Larger bodies are redacted as plain text from their start rather than parsed whole. */
const MAX_PARSE_CHARS = 1_048_576;

const CREDENTIALS = detectorSet(['secret', 'jwt']);

export interface ContentField {
  text: string;
  truncated: boolean;
}

function redactPlain(text: string, detectors: DetectorSet, placeholders: Placeholders): string {
  const matches: Match[] = [];
  const n = scanText(text, detectors, matches);
  return n === 0 ? text : redactText(text, matches, 0, matches.length, placeholders);
}

const isContainer = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/**
 * JSON: every string value and key redacted in the parsed body, then re-serialised, so a value
 * cannot hide behind a JSON escape. Anything else (or JSON too deep to re-serialise): as text.
 */
function redactBody(text: string, detectors: DetectorSet): string {
  const placeholders = new Placeholders();
  if (text.length > MAX_PARSE_CHARS)
    return redactPlain(text.slice(0, AUDIT_CAPTURE_CHARS), detectors, placeholders);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return redactPlain(text, detectors, placeholders);
  }
  if (!isContainer(parsed)) {
    return typeof parsed === 'string' ? JSON.stringify(redactPlain(parsed, detectors, placeholders)) : text;
  }
  // Iterative: nesting depth is the app's to choose.
  const stack: Record<string, unknown>[] = [parsed];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const key of Object.keys(node)) {
      const value = node[key];
      let target = key;
      if (!Array.isArray(node)) {
        const redacted = redactPlain(key, detectors, placeholders);
        if (redacted !== key) {
          delete node[key];
          node[redacted] = value;
          target = redacted;
        }
      }
      if (typeof value === 'string') node[target] = redactPlain(value, detectors, placeholders);
      else if (isContainer(value)) stack.push(value);
    }
  }
  try {
    return JSON.stringify(parsed);
  } catch {
    return redactPlain(text, detectors, placeholders);
  }
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets)
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join('[CREDENTIAL]');
  return out;
}

function bounded(text: string, truncated = false): ContentField {
  return text.length > AUDIT_CONTENT_CHARS
    ? { text: text.slice(0, AUDIT_CONTENT_CHARS), truncated: true }
    : { text, truncated };
}

/**
 * The request body for the audit record: `sent` is what left for the provider (after the
 * boundary), `original` what the app sent. Undefined under Metadata or without a body.
 */
export function requestContent(
  mode: AuditContent,
  sent: Buffer | undefined,
  original: Buffer | undefined,
  secrets: readonly string[],
): ContentField | undefined {
  if (mode === 'Metadata') return undefined;
  const body = mode === 'Full' ? original : sent;
  if (body === undefined || body.length === 0) return undefined;
  const text = body.toString('utf8');
  const detectors = mode === 'Full' ? CREDENTIALS : ALL_DETECTORS;
  return bounded(redactBody(scrub(text, secrets), detectors));
}

/**
 * The response text for the audit record, from what the ResponseScanner captured (as the
 * provider sent it). Full restores the request's placeholders, as the app received it.
 */
export function responseContent(
  mode: AuditContent,
  captured: CapturedContent | undefined,
  placeholders: Placeholders | undefined,
  secrets: readonly string[],
): ContentField | undefined {
  if (mode === 'Metadata' || captured === undefined || captured.text === '') return undefined;
  const restored = mode === 'Full' && placeholders ? placeholders.restore(captured.text) : captured.text;
  const detectors = mode === 'Full' ? CREDENTIALS : ALL_DETECTORS;
  const text = redactPlain(scrub(restored, secrets), detectors, new Placeholders());
  return bounded(text, captured.truncated);
}
