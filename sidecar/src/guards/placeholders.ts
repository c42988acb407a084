// Typed placeholders for redacted values: `[EMAIL_1]`, `[CREDIT_CARD_2]`, the same value getting
// the same placeholder within one request. The map from placeholder back to value exists only to
// restore responses; it lives in this object, in the pod's memory, and refuses to be logged or
// serialised.
import { inspect } from 'node:util';
import type { Detector, Match } from './detect/types.ts';

export const PLACEHOLDER_LABELS: Readonly<Record<Detector, string>> = {
  email: 'EMAIL',
  phone: 'PHONE',
  'credit-card': 'CREDIT_CARD',
  'us-ssn': 'US_SSN',
  iban: 'IBAN',
  secret: 'SECRET',
  jwt: 'JWT',
  'ip-address': 'IP_ADDRESS',
};

/** Any placeholder this module writes: `[LABEL_n]`. */
export const PLACEHOLDER_PATTERN =
  /\[(?:EMAIL|PHONE|CREDIT_CARD|US_SSN|IBAN|SECRET|JWT|IP_ADDRESS)_\d{1,6}\]/g;
/** The longest placeholder (`[IP_ADDRESS_999999]`): what a streaming restore must hold back. */
export const MAX_PLACEHOLDER_LENGTH = 19;

export class Placeholders {
  readonly #byValue = new Map<string, string>();
  readonly #byPlaceholder = new Map<string, string>();
  readonly #counts = new Map<Detector, number>();

  /** The placeholder for `value`: a new one per distinct value, numbered per detector from 1. */
  placeholderFor(detector: Detector, value: string): string {
    const known = this.#byValue.get(value);
    if (known !== undefined) return known;
    const n = (this.#counts.get(detector) ?? 0) + 1;
    this.#counts.set(detector, n);
    const placeholder = `[${PLACEHOLDER_LABELS[detector]}_${n}]`;
    this.#byValue.set(value, placeholder);
    this.#byPlaceholder.set(placeholder, value);
    return placeholder;
  }

  /** The placeholder already given to `value`, if any. */
  forValue(value: string): string | undefined {
    return this.#byValue.get(value);
  }

  /** The original value behind a placeholder of this request. */
  valueOf(placeholder: string): string | undefined {
    return this.#byPlaceholder.get(placeholder);
  }

  get size(): number {
    return this.#byPlaceholder.size;
  }

  /** Replaces every placeholder of this request in `text` by its value (`encode` e.g. for JSON). */
  restore(text: string, encode?: (value: string) => string): string {
    if (this.#byPlaceholder.size === 0 || !text.includes('[')) return text;
    return text.replace(PLACEHOLDER_PATTERN, (placeholder) => {
      const value = this.#byPlaceholder.get(placeholder);
      if (value === undefined) return placeholder;
      return encode ? encode(value) : value;
    });
  }

  /** Never the values. */
  toJSON(): { placeholders: number } {
    return { placeholders: this.size };
  }

  [inspect.custom](): string {
    return `Placeholders(${this.size})`;
  }
}

/** `text` with `matches` (sorted, non-overlapping, within it) replaced by their placeholders. */
export function redactText(
  text: string,
  matches: readonly Match[],
  from: number,
  to: number,
  map: Placeholders,
): string {
  let out = '';
  let last = 0;
  for (let i = from; i < to; i++) {
    const m = matches[i]!;
    out += text.slice(last, m.start) + map.placeholderFor(m.detector, text.slice(m.start, m.end));
    last = m.end;
  }
  return out + text.slice(last);
}
