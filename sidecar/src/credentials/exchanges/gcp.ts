// Google Cloud workload identity federation: Security Token Service exchange (RFC 8693) of the
// projected token for a federated access token, then, when serviceAccountEmail is set, the IAM
// Credentials API's generateAccessToken impersonates that service account. Vertex AI receives the
// result as `Authorization: Bearer`.
import { IdentityError } from '../errors.ts';
import { TOKEN_EXCHANGE_GRANT, TOKEN_TYPES, bearerFromTokenResponse, describeRefusal } from './oauth.ts';
import type { BearerCredential, ExchangeInput } from './types.ts';

export const GCP_STS_URL = 'https://sts.googleapis.com/v1/token';
export const GCP_IAM_CREDENTIALS_URL = 'https://iamcredentials.googleapis.com';
export const GCP_DEFAULT_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const IMPERSONATED_LIFETIME = '3600s';

/** The STS `audience`: the provider's full resource name, `//iam.googleapis.com/projects/...`. */
export function gcpAudience(workloadIdentityProvider: string): string {
  return workloadIdentityProvider.startsWith('//')
    ? workloadIdentityProvider
    : `//iam.googleapis.com/${workloadIdentityProvider.replace(/^\/+/, '')}`;
}

export async function exchangeGcp(input: ExchangeInput): Promise<BearerCredential> {
  const { spec, provider, endpoints } = input;
  const scope = spec.scope ?? GCP_DEFAULT_SCOPE;
  const url = spec.tokenURL ?? GCP_STS_URL;
  const sts = await endpoints.post(provider, {
    url,
    form: {
      grant_type: TOKEN_EXCHANGE_GRANT,
      audience: gcpAudience(spec.workloadIdentityProvider ?? ''),
      scope,
      requested_token_type: TOKEN_TYPES.accessToken,
      subject_token: input.subjectToken,
      subject_token_type: TOKEN_TYPES.jwt,
    },
  });
  const federated = bearerFromTokenResponse(sts, `Google STS (${url})`, input.subjectToken, input.now());
  if (spec.serviceAccountEmail === undefined) return federated;

  const base = (spec.serviceAccountImpersonationURL ?? GCP_IAM_CREDENTIALS_URL).replace(/\/+$/, '');
  const iamUrl = `${base}/v1/projects/-/serviceAccounts/${encodeURIComponent(spec.serviceAccountEmail)}:generateAccessToken`;
  const what = `IAM Credentials impersonating ${spec.serviceAccountEmail}`;
  const answer = await endpoints.post(provider, {
    url: iamUrl,
    json: { scope: [scope], lifetime: IMPERSONATED_LIFETIME },
    headers: { authorization: `Bearer ${federated.token}` },
  });
  if (answer.status !== 200)
    throw new IdentityError(
      'EXCHANGE_REFUSED',
      `${what} refused: ${describeRefusal(answer, [input.subjectToken, federated.token])}`,
    );
  let body: { accessToken?: unknown; expireTime?: unknown };
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    throw new IdentityError('EXCHANGE_REFUSED', `${what} answered something other than JSON`);
  }
  const expiresAt = typeof body.expireTime === 'string' ? Date.parse(body.expireTime) : NaN;
  if (typeof body.accessToken !== 'string' || body.accessToken === '' || !Number.isFinite(expiresAt))
    throw new IdentityError('EXCHANGE_REFUSED', `${what} answered without accessToken and expireTime`);
  return { kind: 'bearer', token: body.accessToken, expiresAt };
}
