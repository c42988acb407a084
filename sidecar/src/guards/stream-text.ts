// Text that arrives in pieces (the deltas of a streamed response): detection with a bounded
// hold-back, so a value split across deltas or TCP chunks is still seen whole, and placeholder
// restore that holds back at most a placeholder's length so `[EMA` + `IL_1]` is restored too.
import { scanText } from './detect/scan.ts';
import type { DetectorSet, Match } from './detect/types.ts';
import { countDetectors, type DetectorCounts } from './findings.ts';
import { MAX_PLACEHOLDER_LENGTH, PLACEHOLDER_PATTERN, type Placeholders } from './placeholders.ts';

/** Text kept for the next scan: longer than anything but a PEM block that a detector matches. */
export const HOLD_BACK = 256;
/** A match ending this close to the end of the text may still grow: it waits for more text. */
const MARGIN = 64;
/** Characters before the held text, kept so that boundary and context checks see what precedes. */
const CONTEXT = 32;
/** New text gathered before a scan (scanning every few-character delta would cost more than it finds). */
const SCAN_EVERY = 128;
/** A match still growing at this size is reported anyway (a PEM block), to keep memory bounded. */
const MAX_CARRY = 16_384;

/** Detection over text that arrives in pieces; counts what it finds, never keeps a value. */
export class StreamingDetector {
  readonly #detectors: DetectorSet;
  readonly #counts: DetectorCounts;
  #carry = '';
  /** Absolute offset of #carry[0] in the whole text. */
  #offset = 0;
  /** Matches starting before this absolute offset were reported (or lie in context only). */
  #reportFrom = 0;
  #unscanned = 0;
  #matches: Match[] = [];

  /** Counts go into `counts` (shared by all the streams of one response). */
  constructor(detectors: DetectorSet, counts: DetectorCounts) {
    this.#detectors = detectors;
    this.#counts = counts;
  }

  push(delta: string): void {
    if (!this.#detectors.any || delta.length === 0) return;
    this.#carry += delta;
    this.#unscanned += delta.length;
    if (this.#unscanned >= SCAN_EVERY) this.#scan(false);
  }

  /** The text is complete: everything still held is scanned and reported. */
  end(): void {
    if (this.#detectors.any && this.#carry.length > 0) this.#scan(true);
    this.#carry = '';
  }

  #scan(final: boolean): void {
    const text = this.#carry;
    const matches = this.#matches;
    matches.length = 0;
    scanText(text, this.#detectors, matches);
    const settled = text.length - MARGIN;
    let keepFrom = Math.max(0, text.length - HOLD_BACK);
    for (const m of matches) {
      const start = this.#offset + m.start;
      if (start < this.#reportFrom) continue;
      if (final || m.end <= settled || text.length - m.start >= MAX_CARRY) {
        countDetectors(this.#counts, m.detector);
        this.#reportFrom = this.#offset + m.end;
      } else if (m.start < keepFrom) {
        keepFrom = m.start; // still growing: keep it whole for the next scan
      }
    }
    this.#unscanned = 0;
    if (final) return;
    this.#reportFrom = Math.max(this.#reportFrom, this.#offset + keepFrom);
    const cut = Math.max(0, keepFrom - CONTEXT);
    this.#carry = text.slice(cut);
    this.#offset += cut;
  }
}

// The start of a placeholder (`[`, `[EMA`, `[EMAIL_`, `[EMAIL_1`): held until the next piece.
const PARTIAL_PLACEHOLDER = /\[[A-Z_]*\d*$/;

/** Puts this request's values back in place of its placeholders, in text that arrives in pieces. */
export class StreamingRestore {
  readonly #placeholders: Placeholders;
  readonly #encode: ((value: string) => string) | undefined;
  #held = '';
  restored = 0;

  /** `encode` escapes a value for where it lands (JSON string fragments of tool arguments). */
  constructor(placeholders: Placeholders, encode?: (value: string) => string) {
    this.#placeholders = placeholders;
    this.#encode = encode;
  }

  /** The text to emit for this piece (possibly shorter: a possible placeholder start waits). */
  push(delta: string): string {
    const text = this.#held + delta;
    let emitEnd = text.length;
    const bracket = text.lastIndexOf('[');
    if (bracket >= 0 && text.length - bracket < MAX_PLACEHOLDER_LENGTH) {
      PARTIAL_PLACEHOLDER.lastIndex = 0;
      if (PARTIAL_PLACEHOLDER.test(text.slice(bracket))) emitEnd = bracket;
    }
    this.#held = text.slice(emitEnd);
    return this.#restore(emitEnd === text.length ? text : text.slice(0, emitEnd));
  }

  /** What is still held (the piece ended): emitted as it is, restored if complete. */
  end(): string {
    const text = this.#held;
    this.#held = '';
    return this.#restore(text);
  }

  get holding(): boolean {
    return this.#held.length > 0;
  }

  #restore(text: string): string {
    if (!text.includes('[')) return text;
    return text.replace(PLACEHOLDER_PATTERN, (placeholder) => {
      const value = this.#placeholders.valueOf(placeholder);
      if (value === undefined) return placeholder;
      this.restored++;
      return this.#encode ? this.#encode(value) : value;
    });
  }
}

/** A value as it appears inside a JSON string literal. */
export const jsonEscape = (value: string): string => JSON.stringify(value).slice(1, -1);
