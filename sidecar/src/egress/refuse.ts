// Egress refusals: every check names itself in `rule` (`egress:userinfo`, `egress:address`, ...) so
// tests, audit records and dashboards can tell a userinfo trick from a private address.
import { RefusalError, type RefusalCode } from '../../../api/src/refusals.ts';

export const EGRESS_CHECKS = [
  'malformed-target',
  'scheme',
  'userinfo',
  'backslash',
  'fragment',
  'percent-encoded-host',
  'malformed-host',
  'ip-literal',
  'malformed-port',
  'host-mismatch',
  'malformed-path',
  'encoded-slash',
  'encoded-dot-segment',
  'double-encoding',
  'encoded-control',
  'path-traversal',
  'address',
  'self-connection',
  'sni',
  'redirect',
] as const;
export type EgressCheck = (typeof EGRESS_CHECKS)[number];

export function egressRule(check: EgressCheck): string {
  return `egress:${check}`;
}

/** A request refused by a built-in egress check, before or independently of the policy rules. */
export function egressRefusal(
  check: EgressCheck,
  reason: string,
  code: RefusalCode = 'EGRESS_DENIED',
  details: { policy?: string | null; provider?: string | null } = {},
): RefusalError {
  return new RefusalError(code, reason, { ...details, rule: egressRule(check) });
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: RefusalError };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const fail = <T>(check: EgressCheck, reason: string, code?: RefusalCode): Checked<T> => ({
  ok: false,
  error: egressRefusal(check, reason, code),
});
