// OAuth 2.0 Token Exchange (RFC 8693) for internal gateways: the projected token is the subject
// token; the gateway's token endpoint issues an access token for `resource` (its `audience`).
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPES, bearerFromTokenResponse } from './oauth.ts';
import type { BearerCredential, ExchangeInput } from './types.ts';

export async function exchangeOAuth2(input: ExchangeInput): Promise<BearerCredential> {
  const { spec } = input;
  const url = spec.tokenURL ?? '';
  const form: Record<string, string> = {
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: input.subjectToken,
    subject_token_type: TOKEN_TYPES.jwt,
    requested_token_type: TOKEN_TYPES.accessToken,
  };
  if (spec.resource !== undefined) form.audience = spec.resource;
  if (spec.scope !== undefined) form.scope = spec.scope;
  const response = await input.endpoints.post(input.provider, { url, form });
  return bearerFromTokenResponse(response, `the token endpoint ${url}`, input.subjectToken, input.now());
}
