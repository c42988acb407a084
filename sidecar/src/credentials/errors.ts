// Why a credential could not be obtained. Each case has a stable code (logged, counted, asserted in
// tests); the proxy answers all of them with the refusal IDENTITY_UNAVAILABLE, whose reason is this
// error's message. Messages name files, audiences, endpoints and statuses, never a token.
import { RefusalError } from '../../../api/src/refusals.ts';
import type { CompiledProvider } from '../policy/compile.ts';

export const IDENTITY_ERROR_CODES = {
  /** No projected token is mounted for the audience (the pod predates the policy that needs it). */
  NO_TOKEN_FOR_AUDIENCE: 'NO_TOKEN_FOR_AUDIENCE',
  /** The token file cannot be read, is empty, or is not a JWT for its audience. */
  TOKEN_UNREADABLE: 'TOKEN_UNREADABLE',
  /** The projected token is past its `exp`: the kubelet stopped refreshing the file. */
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  /** The token endpoint refused the exchange (4xx) or answered something unusable. */
  EXCHANGE_REFUSED: 'EXCHANGE_REFUSED',
  /** The token endpoint could not be reached, timed out, or failed (5xx). */
  TOKEN_ENDPOINT_FAILED: 'TOKEN_ENDPOINT_FAILED',
  /** The token endpoint's breaker is open after repeated failures. */
  TOKEN_ENDPOINT_CIRCUIT_OPEN: 'TOKEN_ENDPOINT_CIRCUIT_OPEN',
} as const;

export type IdentityErrorCode = keyof typeof IDENTITY_ERROR_CODES;

export class IdentityError extends Error {
  readonly code: IdentityErrorCode;

  constructor(code: IdentityErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityError';
    this.code = code;
  }
}

/** The refusal the app receives when `provider`'s credential cannot be obtained. */
export function identityRefusal(err: unknown, provider: CompiledProvider, rule: string): RefusalError {
  if (err instanceof RefusalError) return err;
  const reason =
    err instanceof IdentityError
      ? `${err.message} [${err.code}]`
      : `the credential for provider ${provider.name} could not be obtained`;
  return new RefusalError('IDENTITY_UNAVAILABLE', reason, {
    provider: provider.name,
    rule,
    cause: err,
  });
}
