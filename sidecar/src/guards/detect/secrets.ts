// Credentials: provider and platform keys by their documented prefixes (OpenAI, Anthropic, AWS,
// GitHub, Slack, Google, Stripe), PEM private key blocks, JWTs (whose header must decode to JSON
// naming an algorithm), and `password=` / `api_key: ...` style assignments whose value looks
// random. Prefixes are found with one regex each family; the body is then checked in place.
import { characterClasses, shannonEntropy } from './checksums.ts';
import type { DetectorSet, Match } from './types.ts';

const isToken = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;

/** Index after the run of token characters (`[A-Za-z0-9_-]`) from `i`, at most `max` long. */
function tokenEnd(text: string, i: number, max = 512): number {
  const limit = Math.min(text.length, i + max);
  while (i < limit && isToken(text.charCodeAt(i))) i++;
  return i;
}

interface KeyFormat {
  /** Characters after the prefix, within the token. */
  min: number;
  max: number;
  /** Body alphabet. */
  body: RegExp;
  /** Random bodies mix letters and digits; a body of words (`sk-this-is-fake`) does not. */
  random: boolean;
}

const ALNUM = /^[A-Za-z0-9]+$/;
const ALNUM_DASH = /^[A-Za-z0-9_-]+$/;
const BASE32 = /^[A-Z2-7]+$/;

function formatOf(prefix: string): KeyFormat {
  if (prefix.startsWith('sk-')) return { min: 20, max: 300, body: ALNUM_DASH, random: true };
  if (prefix.endsWith('_live_') || prefix.endsWith('_test_'))
    return { min: 16, max: 120, body: ALNUM, random: true };
  if (prefix === 'github_pat_') return { min: 40, max: 255, body: ALNUM_DASH, random: true };
  if (prefix.startsWith('gh')) return { min: 36, max: 255, body: ALNUM, random: true };
  if (prefix.startsWith('xox')) return { min: 10, max: 255, body: ALNUM_DASH, random: false };
  if (prefix === 'AIza') return { min: 35, max: 35, body: ALNUM_DASH, random: false };
  return { min: 16, max: 16, body: BASE32, random: false }; // AWS access key IDs
}

// Prefixes are found by their rarest character: the `-` or `_` that ends most of them (checked
// backwards by a lookbehind, inside the regex engine). AWS access key IDs (AKIA long-term, ASIA
// temporary; the other A... IDs name users and roles, they are not secrets) and Google API keys
// (AIza) have none: indexOf finds those literals faster than any regex.
const DASHED_PREFIX =
  /[-_](?<=(?<![A-Za-z0-9_-])(?:sk-(?:(?:ant|proj|svcacct|admin)-)?|[sr]k_(?:live|test)_|gh[pousr]_|github_pat_|xox[abposre]-))/g;
const CAPITAL_PREFIXES = ['AKIA', 'ASIA', 'AIza'] as const;

/** The key whose prefix ends at `bodyStart` and starts at `start`, if its body has the right form. */
function keyAt(text: string, start: number, bodyStart: number, out: Match[]): number {
  const prefix = text.slice(start, bodyStart);
  const end = tokenEnd(text, bodyStart);
  const body = text.slice(bodyStart, end);
  const format = formatOf(prefix);
  if (body.length < format.min || body.length > format.max || !format.body.test(body)) return end;
  if (format.random && !looksRandom(body)) return end;
  if (prefix.startsWith('xox') && !/\d/.test(body)) return end;
  out.push({ detector: 'secret', start, end });
  return end;
}

function keys(text: string, out: Match[]): void {
  DASHED_PREFIX.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = DASHED_PREFIX.exec(text)) !== null) {
    // The prefix: back from the matched character to the token boundary.
    let start = m.index;
    while (start > 0 && isToken(text.charCodeAt(start - 1))) start--;
    DASHED_PREFIX.lastIndex = keyAt(text, start, DASHED_PREFIX.lastIndex, out);
  }
  for (const prefix of CAPITAL_PREFIXES) {
    for (let at = text.indexOf(prefix); at >= 0; at = text.indexOf(prefix, at + 4)) {
      // Glued to a longer token (`xAKIA...`): not a key.
      if (at > 0 && isToken(text.charCodeAt(at - 1))) continue;
      at = keyAt(text, at, at + 4, out) - 4;
    }
  }
}

/** Random key material: digits and letters mixed, varied characters, no long runs of one. */
function looksRandom(body: string): boolean {
  if (characterClasses(body) < 2 || !/\d/.test(body)) return false;
  if (/(.)\1{5}/.test(body)) return false;
  return shannonEntropy(body) >= 3.2;
}

// Rare literals, found with indexOf (faster than a regex for a literal that starts with a rare
// character): a PEM header, a Slack webhook path, a JWT payload's `.eyJ` (`{"` in base64url, rarer
// than the header's `eyJ` alone). Each hit is then read in place.
const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_BODY = /[A-Za-z0-9+/=\s:,-]/;
const MAX_PEM = 65_536;
const SLACK_WEBHOOK = /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,200}/y;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/y;

/** A private key block from its header: to its END line, or over the base64 that follows. */
function privateKeyAt(text: string, start: number, out: Match[]): number {
  PRIVATE_KEY.lastIndex = start;
  if (!PRIVATE_KEY.test(text)) return start + 1;
  const headerEnd = PRIVATE_KEY.lastIndex;
  const endMarker = text.indexOf('-----END ', headerEnd);
  let end: number;
  if (endMarker >= 0 && endMarker - start <= MAX_PEM) {
    const close = text.indexOf('-----', endMarker + 9);
    end = close >= 0 && close - endMarker < 64 ? close + 5 : endMarker + 9;
  } else {
    // No END line (truncated paste, or a stream still arriving): the base64 that follows.
    end = headerEnd;
    const limit = Math.min(text.length, start + MAX_PEM);
    while (end < limit && PEM_BODY.test(text[end]!)) end++;
  }
  out.push({ detector: 'secret', start, end });
  return end;
}

function webhookAt(text: string, host: number, out: Match[]): number {
  const start = host - 8; // https://
  if (start < 0) return host + 1;
  SLACK_WEBHOOK.lastIndex = start;
  if (!SLACK_WEBHOOK.test(text)) return host + 1;
  out.push({ detector: 'secret', start, end: SLACK_WEBHOOK.lastIndex });
  return SLACK_WEBHOOK.lastIndex;
}

function jwtHeaderValid(segment: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return header !== null && typeof header === 'object' && 'alg' in header;
  } catch {
    return false;
  }
}

function jwtAt(text: string, dot: number, out: Match[]): number {
  let start = dot;
  while (start > 0 && dot - start < 4096 && isToken(text.charCodeAt(start - 1))) start--;
  JWT.lastIndex = start;
  const jwt = JWT.exec(text);
  if (jwt === null) return dot + 1;
  const end = JWT.lastIndex;
  if (end < text.length && (isToken(text.charCodeAt(end)) || text.charCodeAt(end) === 46)) return end;
  if (jwtHeaderValid(jwt[0].slice(0, jwt[0].indexOf('.')))) out.push({ detector: 'jwt', start, end });
  return end;
}

function rare(text: string, set: DetectorSet, out: Match[]): void {
  if (set.secret) {
    for (let at = text.indexOf('-----BEGIN '); at >= 0; at = text.indexOf('-----BEGIN ', at)) {
      at = privateKeyAt(text, at, out);
    }
    for (const path of ['/services/', '/workflows/']) {
      for (let at = text.indexOf(path); at >= 0; at = text.indexOf(path, at + 1)) {
        if (text.startsWith('hooks.slack.com', at - 15)) at = webhookAt(text, at - 15, out);
      }
    }
  }
  if (set.jwt) {
    for (let at = text.indexOf('.eyJ'); at >= 0; at = text.indexOf('.eyJ', at)) at = jwtAt(text, at, out);
  }
}

// `password = "..."`, `"api_key": "..."`, `AWS_SECRET_ACCESS_KEY=...`, `Authorization: Bearer ...`:
// an assignment whose value has at least 8 characters is a candidate; the name before it decides,
// and the value must look random (entropy, mixed characters) and not like a placeholder.
const ASSIGNMENT = /[:=][ \t]*(?:(?:bearer|basic|token)[ \t]+)?["'`]?[^\s"'`,;)}\]<>]{8}/gi;
const SECRET_NAME =
  /(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|auth(?:orization)?|credentials?|private[_-]?key|signing[_-]?key|session[_-]?(?:id|key)|cookie|bearer)[A-Za-z0-9_-]{0,24}["'`]?[ \t]*$/i;
const SCHEME = /^(?:bearer|basic|token)$/i;
const PLACEHOLDER =
  /^\[[A-Z_]+_\d+\]?$|^[A-Z_]+$|your|example|changeme|placeholder|redacted|dummy|sample|xxxx|\*\*\*|\.\.\.|^<|^\$|\{\{|^%/i;
const VALUE_END = /[\s"'`,;)}\]<>]/;

function valueAt(text: string, i: number): [number, number] {
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  const quote = text[i];
  if (quote === '"' || quote === "'" || quote === '`') i++;
  const start = i;
  const limit = Math.min(text.length, i + 256);
  while (i < limit && !VALUE_END.test(text[i]!)) i++;
  return [start, i];
}

function assignments(text: string, out: Match[]): void {
  ASSIGNMENT.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ASSIGNMENT.exec(text)) !== null) {
    const at = m.index;
    if (!SECRET_NAME.test(text.slice(Math.max(0, at - 48), at))) continue;
    let [start, end] = valueAt(text, at + 1);
    if (SCHEME.test(text.slice(start, end))) [start, end] = valueAt(text, end);
    ASSIGNMENT.lastIndex = Math.max(ASSIGNMENT.lastIndex, end);
    const value = text.slice(start, end);
    if (value.length < 8 || PLACEHOLDER.test(value)) continue;
    const entropy = shannonEntropy(value);
    if (!((characterClasses(value) >= 2 && entropy >= 2.5) || entropy >= 3.5)) continue;
    out.push({ detector: 'secret', start, end });
  }
}

/** Appends secret and JWT matches of `text` to `out` (not in order: the caller sorts). */
export function scanSecrets(text: string, set: DetectorSet, out: Match[]): void {
  if (set.secret) {
    keys(text, out);
    assignments(text, out);
  }
  if (set.secret || set.jwt) rare(text, set, out);
}
