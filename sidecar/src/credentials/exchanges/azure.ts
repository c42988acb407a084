// Microsoft Entra ID workload identity federation: the projected token is the client assertion of
// a client-credentials grant (the app registration or managed identity trusts the cluster's issuer
// for this service account), and the access token goes to Azure OpenAI as `Authorization: Bearer`.
import { bearerFromTokenResponse } from './oauth.ts';
import type { BearerCredential, ExchangeInput } from './types.ts';

export const AZURE_DEFAULT_SCOPE = 'https://cognitiveservices.azure.com/.default';
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export function azureTokenUrl(tenantID: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantID)}/oauth2/v2.0/token`;
}

export async function exchangeAzure(input: ExchangeInput): Promise<BearerCredential> {
  const { spec } = input;
  const url = spec.tokenURL ?? azureTokenUrl(spec.tenantID ?? '');
  const response = await input.endpoints.post(input.provider, {
    url,
    form: {
      grant_type: 'client_credentials',
      client_id: spec.clientID ?? '',
      scope: spec.scope ?? AZURE_DEFAULT_SCOPE,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: input.subjectToken,
    },
  });
  return bearerFromTokenResponse(response, `Microsoft Entra ID (${url})`, input.subjectToken, input.now());
}
