// SigV4 for Bedrock with the AWS SDK's own signer (@smithy/signature-v4 with @aws-crypto's
// SHA-256): the exact request that leaves (method, host, path as sent, query, final body) is signed
// with the temporary credentials from STS. The signature covers host, date, session token and the
// body's hash, so what the provider receives is what the policy and the data boundary let through.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredential } from './exchanges/types.ts';

export const BEDROCK_SIGNING_SERVICE = 'bedrock';

export interface SignableRequest {
  method: string;
  /** `https://host[:port]`. */
  origin: string;
  /** Path and query exactly as they are sent. */
  path: string;
  body: Buffer | undefined;
}

function queryOf(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    const existing = query[name];
    query[name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

/** The headers that authenticate `request` (host, x-amz-date, x-amz-security-token, x-amz-content-sha256, authorization). */
export async function signSigV4(
  request: SignableRequest,
  credential: AwsCredential,
  region: string,
  service = BEDROCK_SIGNING_SERVICE,
  signingDate?: Date,
): Promise<Record<string, string>> {
  const origin = new URL(request.origin);
  const queryAt = request.path.indexOf('?');
  const path = queryAt < 0 ? request.path : request.path.slice(0, queryAt);
  const signer = new SignatureV4({
    service,
    region,
    sha256: Sha256,
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      sessionToken: credential.sessionToken,
    },
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: origin.hostname,
      ...(origin.port !== '' && { port: Number(origin.port) }),
      path,
      query: queryAt < 0 ? {} : queryOf(request.path.slice(queryAt + 1)),
      // URL.host leaves out the default port, as the Host header the connection sends does.
      headers: { host: origin.host },
      body: request.body ?? '',
    },
    signingDate ? { signingDate } : undefined,
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) out[name.toLowerCase()] = value;
  return out;
}
