// What a detector reports: which detector, where in the scanned string. Never the value: callers
// that need it (redaction, restore) slice it from the text they own.
import { DETECTORS } from '../../../../api/src/policy/vocabulary.ts';

export type Detector = (typeof DETECTORS)[number];
export { DETECTORS };

export interface Match {
  detector: Detector;
  start: number;
  end: number;
}

/** The detectors a policy turned on, as flags read in the hot path. */
export interface DetectorSet {
  readonly email: boolean;
  readonly phone: boolean;
  readonly creditCard: boolean;
  readonly ssn: boolean;
  readonly iban: boolean;
  readonly secret: boolean;
  readonly jwt: boolean;
  readonly ip: boolean;
  /** Any of the digit-led detectors (phone, card, SSN, IBAN, IPv4). */
  readonly digits: boolean;
  readonly any: boolean;
  readonly list: readonly Detector[];
}

export function detectorSet(detectors: readonly Detector[]): DetectorSet {
  const on = new Set(detectors);
  const set = {
    email: on.has('email'),
    phone: on.has('phone'),
    creditCard: on.has('credit-card'),
    ssn: on.has('us-ssn'),
    iban: on.has('iban'),
    secret: on.has('secret'),
    jwt: on.has('jwt'),
    ip: on.has('ip-address'),
  };
  return {
    ...set,
    digits: set.phone || set.creditCard || set.ssn || set.iban || set.ip,
    any: on.size > 0,
    list: DETECTORS.filter((d) => on.has(d)),
  };
}

export const ALL_DETECTORS: DetectorSet = detectorSet(DETECTORS);
