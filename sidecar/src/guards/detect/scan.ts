// scanText: every enabled detector over one string, matches in order and never overlapping. The
// hot path of the data boundary, so each family finds its candidates with one precompiled regex
// or an indexOf loop, and checks (Luhn, mod-97, entropy, JSON of a JWT header) run on candidates
// only. Linear in the text: no pattern can backtrack over more than a bounded window.
import { isIPv6 } from 'node:net';
import { scanDigits } from './digits.ts';
import { scanSecrets } from './secrets.ts';
import type { Detector, DetectorSet, Match } from './types.ts';

const isLocal = (c: number): boolean =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  c === 46 ||
  c === 95 ||
  c === 37 ||
  c === 43 ||
  c === 45;
const isDomain = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Retina asset names (`icon@2x.png`) look like addresses. */
const SCALE_SUFFIX = /^\d+(?:\.\d+)?x\./;

/** Addresses found from each `@`: the local part to the left, the domain to the right. */
function emails(text: string, out: Match[]): void {
  let at = text.indexOf('@');
  while (at >= 0) {
    let start = at;
    while (start > 0 && at - start < 64 && isLocal(text.charCodeAt(start - 1))) start--;
    while (start < at && text.charCodeAt(start) === 46) start++;
    let end = at + 1;
    while (end < text.length && end - at <= 253 && isDomain(text.charCodeAt(end))) end++;
    while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
    const domain = text.slice(at + 1, end);
    const dot = domain.lastIndexOf('.');
    let valid = start < at && dot > 0 && domain.length - dot - 1 >= 2 && !SCALE_SUFFIX.test(domain);
    for (let i = dot + 1; valid && i < domain.length; i++) valid = isAlpha(domain.charCodeAt(i));
    if (valid && !domain.includes('..') && text.charCodeAt(at - 1) !== 46) {
      out.push({ detector: 'email', start, end });
      at = text.indexOf('@', end);
    } else {
      at = text.indexOf('@', at + 1);
    }
  }
}

const IPV6 = /(?:[0-9A-Fa-f]{1,4}|):(?:[0-9A-Fa-f]{0,4}:){1,6}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?/g;
const isHexOrColon = (c: number): boolean =>
  (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

function ipv6(text: string, out: Match[]): void {
  IPV6.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IPV6.exec(text)) !== null) {
    const start = m.index;
    const end = IPV6.lastIndex;
    if (start > 0 && (isHexOrColon(text.charCodeAt(start - 1)) || text.charCodeAt(start - 1) === 46))
      continue;
    if (end < text.length && (isHexOrColon(text.charCodeAt(end)) || isAlpha(text.charCodeAt(end)))) continue;
    const candidate = m[0];
    // `std::vector`, `a::b`, times (10:30:00): need two hex groups and a digit besides the colons.
    const groups = candidate.split(':').filter((g) => g.length > 0);
    if (groups.length < 2 || !/\d/.test(candidate) || !isIPv6(candidate)) continue;
    out.push({ detector: 'ip-address', start, end });
  }
}

const PRIORITY: Record<Detector, number> = {
  secret: 0,
  jwt: 1,
  'credit-card': 2,
  iban: 3,
  'us-ssn': 4,
  email: 5,
  phone: 6,
  'ip-address': 7,
};

const before = (a: Match, b: Match): boolean =>
  a.start < b.start || (a.start === b.start && PRIORITY[a.detector] < PRIORITY[b.detector]);

/**
 * Sorts out[from..] by start (insertion sort, in place: a handful of matches, each family already
 * in order) and merges overlapping matches into one span, typed by the stronger detector.
 */
function settle(out: Match[], from: number): void {
  const n = out.length;
  if (n - from < 2) return;
  for (let i = from + 1; i < n; i++) {
    const m = out[i]!;
    let j = i - 1;
    while (j >= from && before(m, out[j]!)) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = m;
  }
  let last = from;
  for (let i = from + 1; i < n; i++) {
    const m = out[i]!;
    const kept = out[last]!;
    if (m.start < kept.end) {
      if (m.end > kept.end) kept.end = m.end;
      if (PRIORITY[m.detector] < PRIORITY[kept.detector]) kept.detector = m.detector;
    } else {
      out[++last] = m;
    }
  }
  out.length = last + 1;
}

/**
 * Appends the matches of the enabled detectors in `text` to `out`, sorted and non-overlapping.
 * Returns how many were added.
 */
export function scanText(text: string, set: DetectorSet, out: Match[]): number {
  const from = out.length;
  if (text.length < 6 || !set.any) return 0;
  if (set.secret || set.jwt) scanSecrets(text, set, out);
  if (set.email && text.includes('@')) emails(text, out);
  if (set.digits) scanDigits(text, set, out);
  if (set.ip && text.includes(':')) ipv6(text, out);
  settle(out, from);
  return out.length - from;
}
