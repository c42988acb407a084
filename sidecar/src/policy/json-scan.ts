// Walking JSON text without building values: where a string or a value ends. The duplicate-key
// check (model.ts) finds top-level keys that JSON.parse would merge; the usage fast path
// (proxy/usage.ts) finds the one object it parses. On text that is not JSON they still stop, at
// the end at the latest; what they delimit is then not trusted until JSON.parse accepts it.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string literal starting at `i` (which is a `"`). */
export function stringEnd(text: string, i: number): number {
  // Jumps from quote to quote; one is the end when an even number of backslashes precedes it.
  for (let q = text.indexOf('"', i + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let escapes = 0;
    while (text.charCodeAt(q - 1 - escapes) === BACKSLASH) escapes++;
    if (escapes % 2 === 0) return q + 1;
  }
  return text.length;
}

/** Index just past the JSON value starting at `i`. */
export function skipValue(text: string, i: number): number {
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
