// Writing a redacted request back out. Preferably by splicing the placeholders into the original
// bytes: everything else — key order, whitespace, number formatting, big integers — leaves
// untouched, and it costs a search per value instead of serialising and encoding the whole body.
// When splicing cannot be proven exact, the redacted strings go into the parsed body, which is
// re-serialised.
import type { Match } from './detect/types.ts';
import { redactText, type Placeholders } from './placeholders.ts';
import type { Walk } from './shapes.ts';

type Holder = Record<string | number, unknown>;

/** Replaces each segment's matches by placeholders in the parsed body (re-encoding JSON-encoded tool arguments). */
export function redactSegments(
  walk: Walk,
  matches: readonly Match[],
  ranges: Int32Array,
  placeholders: Placeholders,
): void {
  const dirty = new Set<number>();
  for (let i = 0; i < walk.segments.length; i++) {
    const from = ranges[2 * i]!;
    const to = ranges[2 * i + 1]!;
    if (from === to) continue;
    const segment = walk.segments[i]!;
    (segment.holder as Holder)[segment.key] = redactText(segment.text, matches, from, to, placeholders);
    if (segment.embedded >= 0) dirty.add(segment.embedded);
  }
  for (const index of dirty) {
    const embedded = walk.embedded[index]!;
    (embedded.holder as Holder)[embedded.key] = JSON.stringify(embedded.value);
  }
}

// Characters JSON.stringify escapes (quote, backslash, controls) and surrogates: a value holding
// one may be written differently in the raw body, so it is not searched for.
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The body with every occurrence of each redacted value replaced by its placeholder, spliced into
 * the original text (the body as decoded, valid UTF-8, so it encodes back to the same bytes);
 * undefined when that cannot be proven exact (the caller then writes the redacted strings into the
 * parsed body and re-serialises it).
 *
 * Exact because: a value without characters JSON escapes is written as itself inside any string
 * token, at any depth of JSON-in-JSON (tool arguments). So the raw body holds it at least as often
 * as the scan matched it in content strings; if it holds it exactly that often, those are the same
 * occurrences and all of them are replaced. More occurrences (the value inside a longer token, in
 * an unscanned field, or as a bare JSON number) or fewer (an escaped spelling such as `\u0040`)
 * fall back. Placeholders need no escaping, so every replaced token stays valid.
 */
export function spliceValues(
  text: string,
  counts: ReadonlyMap<string, number>,
  placeholders: Placeholders,
): Buffer | undefined {
  const edits: { start: number; end: number; value: string }[] = [];
  for (const [value, count] of counts) {
    if (NEEDS_ESCAPE.test(value)) return undefined;
    let found = 0;
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
      if (++found > count) return undefined;
      edits.push({ start: at, end: at + value.length, value });
    }
    if (found !== count) return undefined;
  }
  if (edits.length > 1) edits.sort((a, b) => a.start - b.start);
  // Searched and spliced as a string, encoded once: Buffer#indexOf encodes a string needle on every
  // call, and a Buffer per piece costs more than the copy it saves.
  let out = '';
  let last = 0;
  for (const edit of edits) {
    if (edit.start < last) return undefined;
    out += text.slice(last, edit.start) + placeholders.forValue(edit.value)!;
    last = edit.end;
  }
  return Buffer.from(out + text.slice(last));
}
