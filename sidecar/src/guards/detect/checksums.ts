// Checks that turn a regex candidate into a finding: Luhn for card numbers, ISO 13616 mod-97 with
// per-country lengths for IBANs, the SSA's never-issued ranges for US SSNs, Shannon entropy for
// secrets. They run only on candidates, so they favour clarity over speed.

/** Luhn (mod 10) over the digits of `digits` (a string of ASCII digits only). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether the number starts with an issuer prefix of a card network (Visa, Mastercard, Amex,
 * Discover, JCB, Diners, UnionPay, Maestro) and has a length that network issues. Luhn alone
 * accepts one random number in ten; the prefix and length table cut that down.
 */
export function cardIssuerValid(digits: string): boolean {
  const n = digits.length;
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  const first = digits.charCodeAt(0) - 48;
  if (first === 4) return n === 13 || n === 16 || n === 19; // Visa
  if (two >= 51 && two <= 55) return n === 16; // Mastercard
  if (four >= 2221 && four <= 2720) return n === 16; // Mastercard 2-series
  if (two === 34 || two === 37) return n === 15; // American Express
  if (two === 36 || two === 38 || (four >= 3000 && four <= 3059)) return n >= 14 && n <= 19; // Diners
  if (four >= 3528 && four <= 3589) return n >= 16 && n <= 19; // JCB
  if (four === 6011 || two === 65 || (four >= 6440 && four <= 6499)) return n >= 16 && n <= 19; // Discover
  if (two === 62) return n >= 16 && n <= 19; // UnionPay
  if (two === 50 || (two >= 56 && two <= 69)) return n >= 12 && n <= 19; // Maestro
  return false;
}

/** IBAN length per ISO 3166 country code (SWIFT IBAN registry). */
// prettier-ignore
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

export function ibanLength(country: string): number | undefined {
  return IBAN_LENGTHS[country];
}

/** ISO 13616: move the first four characters to the end, letters → 10..35, the number mod 97 is 1. */
export function ibanValid(iban: string): boolean {
  const length = IBAN_LENGTHS[iban.slice(0, 2)];
  if (length === undefined || iban.length !== length) return false;
  let remainder = 0;
  for (let k = 0; k < iban.length; k++) {
    const c = iban.charCodeAt((k + 4) % iban.length);
    if (c >= 48 && c <= 57) remainder = (remainder * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) remainder = (remainder * 100 + (c - 55)) % 97;
    else return false;
  }
  return remainder === 1;
}

/** SSNs the SSA never issues, or that are known to be published (advertising, Woolworth's wallet). */
const PUBLISHED_SSNS = new Set(['078051120', '219099999', '457555462']);

/**
 * A US SSN as area-group-serial digits: area not 000, 666 or 900-999, group not 00, serial not
 * 0000 (the rules that still hold since randomisation in 2011).
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  return !PUBLISHED_SSNS.has(area + group + serial);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** How many of: lowercase, uppercase, digit, other — a random credential usually mixes three or more. */
export function characterClasses(text: string): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other;
}
