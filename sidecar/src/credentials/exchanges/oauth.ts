// The OAuth 2.0 token response (RFC 6749 §5.1, RFC 8693 §2.2) and error (§5.2), as Entra ID, Google
// STS and RFC 8693 gateways send them. Errors keep the endpoint's own `error` code and a short,
// single-line description, never echoing the token that was presented.
import { IdentityError } from '../errors.ts';
import type { TokenResponse } from '../token-endpoint.ts';
import type { BearerCredential } from './types.ts';

/** Used when a token response omits expires_in (RFC 8693 makes it RECOMMENDED, not required). */
export const DEFAULT_LIFETIME_SECONDS = 300;

export const TOKEN_TYPES = {
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
} as const;

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** A short, single-line excerpt of text from a token endpoint, without the presented token. */
export function excerpt(text: string, secrets: readonly string[], max = 200): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Why an endpoint refused, from an OAuth error body or Google's `{error: {status, message}}`. */
export function describeRefusal(response: TokenResponse, secrets: readonly string[]): string {
  const body = parseJson(response.body);
  const error = body?.error;
  if (typeof error === 'string') {
    const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
    return excerpt(`${response.status} ${error}${description}`, secrets);
  }
  if (error !== null && typeof error === 'object') {
    const { status, message } = error as { status?: unknown; message?: unknown };
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    return excerpt(`${response.status} ${text(status)}: ${text(message)}`, secrets);
  }
  return `${response.status}`;
}

/** A successful OAuth token response → a bearer credential. */
export function bearerFromTokenResponse(
  response: TokenResponse,
  what: string,
  subjectToken: string,
  now: number,
): BearerCredential {
  if (response.status !== 200)
    throw new IdentityError(
      'EXCHANGE_REFUSED',
      `${what} refused the exchange: ${describeRefusal(response, [subjectToken])}`,
    );
  const body = parseJson(response.body);
  const token = body?.access_token;
  if (typeof token !== 'string' || token === '')
    throw new IdentityError('EXCHANGE_REFUSED', `${what} answered without an access_token`);
  const tokenType = body?.token_type;
  if (typeof tokenType === 'string' && !/^(bearer|n_a)$/i.test(tokenType))
    throw new IdentityError(
      'EXCHANGE_REFUSED',
      `${what} issued a ${excerpt(tokenType, [], 32)} token, not a bearer token`,
    );
  const expiresIn = Number(body?.expires_in ?? DEFAULT_LIFETIME_SECONDS);
  if (!Number.isFinite(expiresIn) || expiresIn <= 0)
    throw new IdentityError('EXCHANGE_REFUSED', `${what} answered an unusable expires_in`);
  return { kind: 'bearer', token, expiresAt: now + expiresIn * 1000 };
}
