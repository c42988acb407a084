// The digit-led detectors in one pass: a single regex finds runs of digits and separators (or two
// digits after two capitals, the start of an IBAN); each run is then read group by group and
// classified as an IPv4 address, a US SSN, a card number, a phone number or an IBAN, with the
// checksum or rule that keeps look-alikes (dates, versions, order numbers, prices) out. Groups are
// kept in two preallocated arrays and separators compared as character codes: no allocation
// unless a candidate reaches its checksum.
import { cardIssuerValid, ibanLength, ibanValid, luhnValid, ssnValid } from './checksums.ts';
import type { DetectorSet, Match } from './types.ts';

// A run: a digit and at least eight more digits or separators (nothing this pass detects is
// shorter), or two digits and a group of four capitals or digits (`GB82 WEST...`, an IBAN's start).
// Runs with fewer than nine digits (dates, times, prices, versions) are dropped before any parsing.
const RUN = /\d(?:[\d.\-/() ]{8,}|\d ?[A-Z0-9]{4})/g;
// IPv4 addresses have as few as four digits: their own pass, only when the detector is on.
const DOTTED = /\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/g;

const MAX_GROUPS = 8;
const gs = new Int32Array(MAX_GROUPS);
const ge = new Int32Array(MAX_GROUPS);

const SPACE = 32;
const PLUS = 43;
const DASH = 45;
const DOT = 46;
const SLASH = 47;
const OPEN = 40;
const CLOSE = 41;
const UNDERSCORE = 95;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isAlnum = (c: number): boolean => isDigit(c) || isUpper(c) || (c >= 97 && c <= 122);

/** Digit groups from `pos`, separated by at most two of ` -.()`; returns how many were read. */
function readGroups(text: string, pos: number, end: number): number {
  let n = 0;
  let i = pos;
  while (n < MAX_GROUPS && i < end && isDigit(text.charCodeAt(i))) {
    gs[n] = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    ge[n] = i;
    n++;
    let j = i;
    while (j < end && j - i < 2 && !isDigit(text.charCodeAt(j)) && text.charCodeAt(j) !== SLASH) j++;
    if (j === i || j >= end || !isDigit(text.charCodeAt(j))) break;
    i = j;
  }
  return n;
}

const len = (k: number): number => ge[k]! - gs[k]!;

/** The separator before group k as one number: its character code, or two codes (c1 * 65536 + c2). */
function sepCode(text: string, k: number): number {
  const from = ge[k - 1]!;
  return gs[k]! - from === 1
    ? text.charCodeAt(from)
    : text.charCodeAt(from) * 65536 + text.charCodeAt(from + 1);
}

const code = (sep: string): number =>
  sep.length === 1 ? sep.charCodeAt(0) : sep.charCodeAt(0) * 65536 + sep.charCodeAt(1);
const CLOSE_SPACE = code(') ');
const PHONE_SEPARATORS = new Set([' ', '-', '.', ') ', ')', ' (', '(', '-(', ')-', '. '].map(code));
const simpleSeparator = (c: number): boolean => c === SPACE || c === DASH || c === DOT;

/** Value of the digits text[from, to). */
function numberAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

function digitsOf(text: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) if (isDigit(text.charCodeAt(i))) out += text[i];
  return out;
}

/** Words shortly before `pos` that make a bare number a phone number, an SSN, or not a card. */
const PHONE_CONTEXT = /(?:phone|tel|mobile|cell|call|fax|whatsapp|sms|text me|contact)\b[^\n\d]{0,16}$/i;
const SSN_CONTEXT = /(?:ssn|social security(?: number| no\.?)?|ss#)[^\n\d]{0,12}$/i;
const ID_CONTEXT = /(?:order|invoice|tracking|ticket|ref(?:erence)?|id|account|no\.?|number|#)\s*[:#]?\s*$/i;
const CARD_CONTEXT = /(?:card|visa|mastercard|amex|cc|credit|debit|pan)\b[^\n\d]{0,16}$/i;

function before(text: string, pos: number, re: RegExp): boolean {
  return re.test(text.slice(Math.max(0, pos - 28), pos));
}

function ipv4(text: string, n: number, out: Match[]): number {
  if (n < 4) return 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0 && sepCode(text, k) !== DOT) return 0;
    if (len(k) > 3 || numberAt(text, gs[k]!, ge[k]!) > 255) return 0;
  }
  // 1.2.3.4.5 is a version or an OID, not an address.
  if (n > 4 && sepCode(text, 4) === DOT) return 0;
  const s = gs[0]!;
  if (s >= 2 && text.charCodeAt(s - 1) === DOT && isDigit(text.charCodeAt(s - 2))) return 0;
  const e = ge[3]!;
  if (text.charCodeAt(e) === DOT && isDigit(text.charCodeAt(e + 1))) return 0;
  out.push({ detector: 'ip-address', start: s, end: e });
  return 4;
}

function ssn(text: string, n: number, out: Match[]): number {
  const s = gs[0]!;
  if (n >= 3 && len(0) === 3 && len(1) === 2 && len(2) === 4) {
    const separator = sepCode(text, 1);
    if ((separator === DASH || separator === SPACE) && sepCode(text, 2) === separator) {
      // Part of a longer dashed number (12-123-45-6789): not an SSN.
      if (n > 3 && sepCode(text, 3) === separator) return 0;
      if (s >= 2 && text.charCodeAt(s - 1) === separator && isDigit(text.charCodeAt(s - 2))) return 0;
      if (!ssnValid(text.slice(gs[0], ge[0]), text.slice(gs[1], ge[1]), text.slice(gs[2], ge[2]))) return 0;
      out.push({ detector: 'us-ssn', start: s, end: ge[2]! });
      return 3;
    }
  }
  if (len(0) === 9 && before(text, s, SSN_CONTEXT)) {
    const d = text.slice(s, ge[0]);
    if (!ssnValid(d.slice(0, 3), d.slice(3, 5), d.slice(5))) return 0;
    out.push({ detector: 'us-ssn', start: s, end: ge[0]! });
    return 1;
  }
  return 0;
}

function card(text: string, n: number, out: Match[]): number {
  const s = gs[0]!;
  if (len(0) >= 13 && len(0) <= 19) {
    const digits = text.slice(s, ge[0]);
    if (!luhnValid(digits) || !cardIssuerValid(digits)) return 0;
    // A bare number right after "order" or "#" is an identifier unless it is called a card.
    if (before(text, s, ID_CONTEXT) && !before(text, s, CARD_CONTEXT)) return 0;
    out.push({ detector: 'credit-card', start: s, end: ge[0]! });
    return 1;
  }
  if (n < 2 || len(0) < 3 || len(0) > 6) return 0;
  const separator = sepCode(text, 1);
  if (separator !== SPACE && separator !== DASH) return 0;
  // Groups of 3 to 6 digits joined by one repeated separator, 13 to 19 digits in all.
  let groups = 1;
  let total = len(0);
  while (groups < n && groups < 5 && sepCode(text, groups) === separator && len(groups) <= 6) {
    if (total + len(groups) > 19) break;
    total += len(groups);
    groups++;
  }
  // Longest grouping first: 4111 1111 1111 1111 2024 is a card followed by a year.
  for (let k = groups - 1; k >= 1 && total >= 13; k--) {
    const end = ge[k]!;
    const digits = digitsOf(text, s, end);
    if (luhnValid(digits) && cardIssuerValid(digits)) {
      out.push({ detector: 'credit-card', start: s, end });
      return k + 1;
    }
    total -= len(k);
  }
  return 0;
}

function internationalPhone(text: string, n: number, plus: boolean, out: Match[]): number {
  const s = gs[0]!;
  const skip = plus ? 0 : 2; // 00 44 ... : the international prefix is not part of the number
  // E.164: at most 15 digits after the prefix, groups joined by simple separators; +1 is NANP (11).
  const nanp = text.charCodeAt(s + skip) === 49;
  let total = 0;
  let best = -1;
  for (let k = 0; k < n; k++) {
    if (k > 0 && !PHONE_SEPARATORS.has(sepCode(text, k))) break;
    total += len(k) - (k === 0 ? skip : 0);
    if (total > 15) break;
    if (nanp ? total === 11 : total >= 8) best = k;
  }
  if (best < 0) return 0;
  out.push({ detector: 'phone', start: plus ? s - 1 : s, end: ge[best]! });
  return best + 1;
}

/** (415) 555-2671, 415-555-2671, 415.555.2671, 415 555 2671, optionally with a leading 1. */
function northAmericanPhone(text: string, n: number, out: Match[]): number {
  const s = gs[0]!;
  const lead = n >= 4 && len(0) === 1 && text.charCodeAt(s) === 49 ? 1 : 0;
  if (n < 3 + lead || len(lead) !== 3 || len(lead + 1) !== 3 || len(lead + 2) !== 4) return 0;
  // Area code and exchange start with 2-9.
  if (text.charCodeAt(gs[lead]!) < 50 || text.charCodeAt(gs[lead + 1]!) < 50) return 0;
  const s1 = sepCode(text, lead + 1);
  const s2 = sepCode(text, lead + 2);
  const paren = text.charCodeAt(gs[lead]! - 1) === OPEN && (s1 === CLOSE || s1 === CLOSE_SPACE);
  if (paren ? !simpleSeparator(s2) : !(simpleSeparator(s1) && s2 === s1)) return 0;
  // Followed or preceded by more of the same: a longer number, not a phone.
  if (n > 3 + lead && sepCode(text, 3 + lead) === s2 && len(3 + lead) >= 2) return 0;
  if (!lead && !paren && s >= 2 && text.charCodeAt(s - 1) === s1 && isDigit(text.charCodeAt(s - 2))) return 0;
  out.push({ detector: 'phone', start: lead ? s : paren ? s - 1 : s, end: ge[lead + 2]! });
  return 3 + lead;
}

/** National numbers with a trunk 0 (020 7946 0958, 07700 900123, 01 23 45 67 89): 10 or 11 digits. */
function trunkPhone(text: string, n: number, out: Match[]): number {
  const s = gs[0]!;
  if (n < 2 || text.charCodeAt(s) !== 48 || text.charCodeAt(s + 1) === 48 || len(0) < 2 || len(0) > 5)
    return 0;
  const separator = sepCode(text, 1);
  if (!simpleSeparator(separator)) return 0;
  let total = len(0);
  let best = -1;
  for (let k = 1; k < n && k < 5; k++) {
    if (sepCode(text, k) !== separator || len(k) < 2) break;
    total += len(k);
    if (total > 11) break;
    if (total >= 10) best = k;
  }
  if (best <= 0 || (best + 1 < n && sepCode(text, best + 1) === separator)) return 0;
  out.push({ detector: 'phone', start: s, end: ge[best]! });
  return best + 1;
}

/** `first`: the group starts its run (a 00 international prefix cannot sit inside a longer number). */
function phone(text: string, n: number, first: boolean, out: Match[]): number {
  const s = gs[0]!;
  const plus = s > 0 && text.charCodeAt(s - 1) === PLUS && !isAlnum(text.charCodeAt(s - 2));
  if (plus || (first && text.startsWith('00', s) && len(0) <= 5 && n >= 2))
    return internationalPhone(text, n, plus, out);
  const used = northAmericanPhone(text, n, out) || trunkPhone(text, n, out);
  if (used) return used;
  // A bare 10 to 15 digit number counts only when the text calls it a phone number.
  if (len(0) >= 10 && len(0) <= 15 && before(text, s, PHONE_CONTEXT)) {
    out.push({ detector: 'phone', start: s, end: ge[0]! });
    return 1;
  }
  return 0;
}

/** An IBAN starting at `s` (two capitals): exactly its country's length, in groups of four or not. */
function iban(text: string, s: number, out: Match[]): number {
  const expected = ibanLength(text.slice(s, s + 2));
  if (expected === undefined) return -1;
  let compact = '';
  let i = s;
  while (compact.length < expected && i < text.length) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || isUpper(c)) {
      compact += text[i];
      i++;
    } else if (c === SPACE && compact.length % 4 === 0 && compact.length > 0) {
      i++;
    } else break;
  }
  if (compact.length !== expected || isAlnum(text.charCodeAt(i))) return -1;
  if (!ibanValid(compact)) return -1;
  out.push({ detector: 'iban', start: s, end: i });
  return i;
}

function classifyRun(text: string, runStart: number, end: number, set: DetectorSet, out: Match[]): void {
  // Digits glued to a word (`v2`, `id_4111...`) do not start a match; the next group may.
  const prev = text.charCodeAt(runStart - 1);
  const glued = runStart > 0 && (isAlnum(prev) || prev === UNDERSCORE);
  let pos = runStart;
  while (pos < end) {
    const n = readGroups(text, pos, end);
    if (n === 0) break;
    let used = 0;
    if (!(glued && pos === runStart)) {
      const plus = text.charCodeAt(pos - 1) === PLUS;
      if (plus && set.phone) used = phone(text, n, pos === runStart, out);
      if (!used && set.ssn) used = ssn(text, n, out);
      if (!used && set.creditCard) used = card(text, n, out);
      if (!used && set.phone && !plus) used = phone(text, n, pos === runStart, out);
    }
    // Next group start: after the match, or after this group's digits and separator.
    pos = used ? ge[used - 1]! : ge[0]!;
    while (pos < end && !isDigit(text.charCodeAt(pos))) pos++;
  }
}

/** Appends the digit-led matches of `text` to `out` (in order per detector family; the caller sorts). */
export function scanDigits(text: string, set: DetectorSet, out: Match[]): void {
  if (set.phone || set.ssn || set.creditCard || set.iban) {
    RUN.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = RUN.exec(text)) !== null) {
      const runStart = m.index;
      if (
        set.iban &&
        runStart >= 2 &&
        isUpper(text.charCodeAt(runStart - 1)) &&
        isUpper(text.charCodeAt(runStart - 2)) &&
        !isAlnum(text.charCodeAt(runStart - 3))
      ) {
        const ibanEnd = iban(text, runStart - 2, out);
        if (ibanEnd > 0) RUN.lastIndex = ibanEnd;
        // Shaped like an IBAN but not one: an account or reference code, not a phone number.
        continue;
      }
      if (!(set.phone || set.ssn || set.creditCard)) continue;
      const end = RUN.lastIndex;
      let digits = 0;
      for (let i = runStart; i < end && digits < 9; i++) if (isDigit(text.charCodeAt(i))) digits++;
      if (digits >= 9) classifyRun(text, runStart, end, set, out);
    }
  }
  if (set.ip) {
    DOTTED.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = DOTTED.exec(text)) !== null) {
      const start = m.index;
      if (start > 0 && (isAlnum(text.charCodeAt(start - 1)) || text.charCodeAt(start - 1) === UNDERSCORE))
        continue;
      if (readGroups(text, start, DOTTED.lastIndex) === 4) ipv4(text, 4, out);
    }
  }
}
