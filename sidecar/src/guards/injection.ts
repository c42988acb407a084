// Prompt-injection heuristics: phrases that try to override the instructions, hijack the model's
// role, extract the system prompt, fake chat-template delimiters, or smuggle instructions through
// encodings and invisible characters — and, inside tool results and retrieved documents, text
// that addresses the model or asks it to send data away. Each category adds its strongest signal's
// weight once; text that discusses injection (quotes, "what is prompt injection") counts for less;
// text from tools and documents counts for more. Score 0-100, compared with the policy threshold.
// Heuristics, not a classifier: they catch the common phrasings and are measured on a labelled
// corpus (test/corpus/prompt-injection.jsonl).
import {
  ADDRESS,
  CONFIG,
  DISCARD,
  DISCLOSE,
  INDIRECT_TRIGGER,
  META,
  PERSONA_OR_ORDER,
  SEND_VERB,
  SIGNALS,
  TRIGGER,
  TRIGGER_ALL,
  UNRESTRICTED,
  type InjectionCategory,
} from './injection-signals.ts';
import type { SegmentKind } from './shapes.ts';

export type { InjectionCategory };

// Invisible Unicode: tag characters (ASCII smuggling), zero-width and bidirectional controls.
const TAG_CHARACTERS = /[\u{E0000}-\u{E007F}]/gu;
const INVISIBLE = /[\u200B-\u200F\u2060-\u2064\uFEFF\u202A-\u202E\u2066-\u2069]/g;
const BASE64_BLOB = /[A-Za-z0-9+/]{40,}={0,2}/g;

// eslint-disable-next-line no-control-regex -- the Latin-1 range starts at U+0000
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

const QUOTES = new Set(['"', "'", '“', '”', '‘', '’', '`', '«', '»']);

export interface InjectionScore {
  score: number;
  /** Categories that contributed, strongest first. */
  categories: InjectionCategory[];
}

const NONE: InjectionScore = { score: 0, categories: [] };

/** Whether the match is a quotation: a quote mark just before it and another soon after. */
function quoted(text: string, start: number, end: number): boolean {
  let open = false;
  for (let i = Math.max(0, start - 2); i < start; i++) if (QUOTES.has(text[i]!)) open = true;
  if (!open) return false;
  for (let j = end; j < Math.min(text.length, end + 40); j++) if (QUOTES.has(text[j]!)) return true;
  return false;
}

/** Whether `pos` lies inside a short quotation (an odd number of quote marks in the 40 characters before). */
function quotedWithin(text: string, pos: number): boolean {
  let marks = 0;
  for (let i = Math.max(0, pos - 40); i < pos; i++) if (QUOTES.has(text[i]!)) marks++;
  return marks % 2 === 1;
}

/** Instructions hidden in base64: decoded blobs that read as text are scored like the text itself. */
function decodedBlobs(text: string): string {
  let decoded = '';
  BASE64_BLOB.lastIndex = 0;
  let m: RegExpExecArray | null;
  let budget = 8;
  while ((m = BASE64_BLOB.exec(text)) !== null && budget-- > 0) {
    if (m[0].length > 65_536) continue;
    const plain = Buffer.from(m[0], 'base64').toString('latin1');
    // Mostly printable ASCII: text, not an image or a key.
    let printable = 0;
    for (let i = 0; i < plain.length; i++) {
      const c = plain.charCodeAt(i);
      if ((c >= 32 && c < 127) || c === 10) printable++;
    }
    if (printable / Math.max(1, plain.length) > 0.95) decoded += `\n${plain}`;
  }
  return decoded;
}

/** Weights of the signals found in `text`, per category; `anchored` when an anchor pass found one. */
function signalsIn(
  text: string,
  indirect: boolean,
  found: Map<InjectionCategory, number[]>,
  anchored = false,
): void {
  if (!anchored && !TRIGGER.test(text) && !addressedSend(text)) return;
  for (const signal of SIGNALS) {
    if (signal.indirectOnly && !indirect) continue;
    signal.re.lastIndex = 0;
    // The first two occurrences count (a second one at half weight, through the category sum).
    for (let n = 0; n < 2; n++) {
      const m = signal.re.exec(text);
      if (m === null) break;
      add(
        found,
        signal.category,
        quoted(text, m.index, signal.re.lastIndex) ? signal.weight / 2 : signal.weight,
      );
    }
  }
  cooccurrence(text, found);
}

/** An e-mail address and a verb that sends: the exfiltration signal's anchor beyond the trigger words. */
function addressedSend(text: string): boolean {
  return ADDRESS.test(text) && SEND_VERB.test(text);
}

function windowAround(text: string, start: number, end: number): string {
  return text.slice(Math.max(0, start - 80), Math.min(text.length, end + 80));
}

function cooccurrence(text: string, found: Map<InjectionCategory, number[]>): void {
  let override = 0;
  let extraction = 0;
  CONFIG.lastIndex = 0;
  let m: RegExpExecArray | null;
  for (let n = 0; n < 4 && (m = CONFIG.exec(text)) !== null; n++) {
    // A quoted phrase ("forget your rules") is talked about, not said: half weight.
    const weight = quoted(text, m.index, CONFIG.lastIndex) || quotedWithin(text, m.index) ? 0.5 : 1;
    const around = windowAround(text, m.index, CONFIG.lastIndex);
    if (DISCARD.test(around)) override = Math.max(override, weight);
    if (DISCLOSE.test(around)) extraction = Math.max(extraction, weight);
  }
  if (override > 0) add(found, 'instruction-override', 55 * override);
  if (extraction > 0) add(found, 'prompt-extraction', 50 * extraction);
  UNRESTRICTED.lastIndex = 0;
  const u = UNRESTRICTED.exec(text);
  if (u !== null) {
    add(
      found,
      'role-hijack',
      PERSONA_OR_ORDER.test(windowAround(text, u.index, UNRESTRICTED.lastIndex)) ? 50 : 25,
    );
  }
}

function add(found: Map<InjectionCategory, number[]>, category: InjectionCategory, weight: number): void {
  const list = found.get(category);
  if (list) list.push(weight);
  else found.set(category, [weight]);
}

/** Text as a reader sees it: invisible characters dropped, tag characters turned back into ASCII. */
function revealed(text: string): string {
  return text
    .replace(INVISIBLE, '')
    .replace(TAG_CHARACTERS, (c) => String.fromCharCode(c.codePointAt(0)! - 0xe0000));
}

/**
 * Scores one piece of text by who wrote it. System and assistant text is not scored (the app's
 * own instructions, or the model's words).
 */
export function scoreInjection(text: string, kind: SegmentKind): InjectionScore {
  return score(text, kind, false);
}

/** Every signal over the text, with no anchor test first: what the anchors must lose nothing of (tests). */
export function scoreEverySignal(text: string, kind: SegmentKind): InjectionScore {
  return score(text, kind, true);
}

function score(text: string, kind: SegmentKind, anchored: boolean): InjectionScore {
  if (kind === 'system' || kind === 'assistant') return NONE;
  const indirect = kind === 'tool-result' || kind === 'document' || kind === 'tool-args';
  const found = new Map<InjectionCategory, number[]>();
  signalsIn(text, indirect, found, anchored);
  // Smuggled text: invisible characters are an encoding trick, and what they hide is scored too.
  if (BEYOND_LATIN1.test(text)) {
    const tags = text.match(TAG_CHARACTERS)?.length ?? 0;
    const invisible = text.match(INVISIBLE)?.length ?? 0;
    if (tags > 0 || invisible >= 3) {
      add(found, 'encoding', tags > 0 ? 45 : invisible >= 10 ? 40 : 25);
      signalsIn(revealed(text), indirect, found);
    }
  }
  // Decoding every long token of every text would cost more than the rest together: blobs are
  // decoded when the text speaks of an encoding.
  if (/base64|b64|decod|encoded/i.test(text) && text.length >= 40) {
    const decoded = decodedBlobs(text);
    if (decoded.length > 0) {
      const inner = new Map<InjectionCategory, number[]>();
      signalsIn(decoded, indirect, inner);
      let strongest = 0;
      for (const weights of inner.values()) strongest = Math.max(strongest, ...weights);
      if (strongest > 0) add(found, 'encoding', strongest + 15);
    }
  }
  if (found.size === 0) return NONE;
  // Per category: its strongest signal, plus half of each further one; categories add up.
  const totals: [InjectionCategory, number][] = [];
  let score = 0;
  for (const [category, weights] of found) {
    weights.sort((a, b) => b - a);
    let total = weights[0]!;
    for (let i = 1; i < weights.length; i++) total += weights[i]! / 2;
    totals.push([category, total]);
    score += total;
  }
  if (META.test(text)) score *= 0.4;
  if (indirect) score *= 1.3;
  totals.sort((a, b) => b[1] - a[1]);
  return { score: Math.min(100, Math.round(score)), categories: totals.map(([c]) => c) };
}

/** A piece of request text and who wrote it. */
export interface ScoredText {
  text: string;
  kind: SegmentKind;
}

const SEPARATOR = '\n\n\u0000\n\n';
// Encoded or invisible content and base64 hints make a piece worth scoring whatever its words.
const SMUGGLING =
  /[\u{E0000}-\u{E007F}\u200B-\u200F\u2060-\u2064\uFEFF\u202A-\u202E\u2066-\u2069]|base64|b64|encoded/iu;

/**
 * Scores many pieces of text: one anchor pass over all of them (pieces from the system prompt and
 * the model are not scored), then the signals over the pieces an anchor was found in. Returns the
 * index of the highest-scoring piece (-1 when none scored) and its score.
 */
export function scorePieces(pieces: readonly ScoredText[]): { index: number; score: InjectionScore } {
  let best = { index: -1, score: NONE };
  for (const { index, anchored } of piecesToScore(pieces)) {
    // An anchored piece skips score's own anchor test: it would find what the pass found.
    const found = score(pieces[index]!.text, pieces[index]!.kind, anchored);
    if (found.score > best.score.score) best = { index, score: found };
  }
  return best;
}

/**
 * The anchor pass: the pieces worth scoring, by index, and whether an anchor was found in each
 * (the others are scored for smuggled text alone).
 */
export function piecesToScore(pieces: readonly ScoredText[]): { index: number; anchored: boolean }[] {
  const eligible: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const kind = pieces[i]!.kind;
    if (kind !== 'system' && kind !== 'assistant') eligible.push(i);
  }
  if (eligible.length === 0) return [];
  const texts = eligible.map((i) => pieces[i]!.text);
  const joined = texts.length === 1 ? texts[0]! : texts.join(SEPARATOR);
  const anchored = new Set<number>();
  const smuggled = new Set<number>();
  // Anchors: at most one hit per piece (the search jumps to the next piece after one).
  TRIGGER_ALL.lastIndex = 0;
  let piece = 0;
  let offset = 0;
  let m: RegExpExecArray | null;
  while ((m = TRIGGER_ALL.exec(joined)) !== null) {
    while (m.index >= offset + texts[piece]!.length + SEPARATOR.length) {
      offset += texts[piece]!.length + SEPARATOR.length;
      piece++;
    }
    anchored.add(piece);
    offset += texts[piece]!.length + SEPARATOR.length;
    piece++;
    if (piece >= texts.length) break;
    TRIGGER_ALL.lastIndex = offset;
  }
  const addressed = ADDRESS.test(joined);
  for (let k = 0; k < texts.length; k++) {
    if (anchored.has(k)) continue;
    const kind = pieces[eligible[k]!]!.kind;
    const indirect = kind === 'tool-result' || kind === 'document' || kind === 'tool-args';
    if ((indirect && INDIRECT_TRIGGER.test(texts[k]!)) || (addressed && addressedSend(texts[k]!))) {
      anchored.add(k);
    }
  }
  if (BEYOND_LATIN1.test(joined) || /base64|b64|encoded/i.test(joined)) {
    for (let k = 0; k < texts.length; k++) if (!anchored.has(k) && SMUGGLING.test(texts[k]!)) smuggled.add(k);
  }
  const chosen: { index: number; anchored: boolean }[] = [];
  for (const k of anchored) chosen.push({ index: eligible[k]!, anchored: true });
  for (const k of smuggled) chosen.push({ index: eligible[k]!, anchored: false });
  return chosen;
}
