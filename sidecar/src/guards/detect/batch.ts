// Many strings, few scans: the content strings of a request are joined (with a separator no
// pattern crosses) and each detector runs once over the whole, because a regex pass costs a fixed
// setup on top of its length and a chat request holds dozens of short strings. Strings with
// characters beyond Latin-1 are joined apart: V8 stores them two bytes per character, and one of
// them would make the whole joined text two-byte and every pass slower.
import { scanText } from './scan.ts';
import type { DetectorSet, Match } from './types.ts';

/** Breaks every pattern: no detector accepts a NUL, and the newlines end lines and words. */
const SEPARATOR = '\n\u0000\n';
// eslint-disable-next-line no-control-regex -- the Latin-1 range starts at U+0000
const WIDE = /[^\u0000-\u00ff]/;

function scanGroup(
  texts: readonly string[],
  members: readonly number[],
  joined: string,
  set: DetectorSet,
  perText: (Match[] | undefined)[],
): void {
  const found: Match[] = [];
  if (scanText(joined, set, found) === 0) return;
  // Matches come sorted: walk the members alongside.
  let member = 0;
  let offset = 0;
  for (const m of found) {
    while (m.start >= offset + texts[members[member]!]!.length + SEPARATOR.length) {
      offset += texts[members[member]!]!.length + SEPARATOR.length;
      member++;
    }
    m.start -= offset;
    m.end -= offset;
    (perText[members[member]!] ??= []).push(m);
  }
}

const joinOf = (texts: readonly string[], members: readonly number[]): string =>
  members.length === 1 ? texts[members[0]!]! : members.map((i) => texts[i]).join(SEPARATOR);

/**
 * Scans `texts` and appends their matches to `out` in text order, with each text's own offsets;
 * `ranges[2i]` to `ranges[2i + 1]` are text i's matches in `out`.
 */
export function scanTexts(
  texts: readonly string[],
  set: DetectorSet,
  out: Match[],
  ranges: Int32Array,
): void {
  if (texts.length === 0) return;
  const perText: (Match[] | undefined)[] = new Array<Match[] | undefined>(texts.length);
  const all = texts.map((_, i) => i);
  const joined = texts.length === 1 ? texts[0]! : texts.join(SEPARATOR);
  if (!WIDE.test(joined)) {
    scanGroup(texts, all, joined, set, perText);
  } else {
    const narrow: number[] = [];
    const wide: number[] = [];
    for (const i of all) (WIDE.test(texts[i]!) ? wide : narrow).push(i);
    if (narrow.length > 0) scanGroup(texts, narrow, joinOf(texts, narrow), set, perText);
    scanGroup(texts, wide, joinOf(texts, wide), set, perText);
  }
  for (let i = 0; i < texts.length; i++) {
    ranges[2 * i] = out.length;
    const matches = perText[i];
    if (matches) for (const m of matches) out.push(m);
    ranges[2 * i + 1] = out.length;
  }
}
