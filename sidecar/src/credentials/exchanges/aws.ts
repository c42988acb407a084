// AWS IAM roles for service accounts, the EKS way: STS AssumeRoleWithWebIdentity (an unsigned
// query-API call; the projected token is the proof) returns temporary credentials that sign each
// Bedrock request with SigV4 (see ../sigv4.ts). The XML answer is read with fast-xml-parser, the
// parser the AWS SDK itself uses.
import { XMLParser } from 'fast-xml-parser';
import { IdentityError } from '../errors.ts';
import { excerpt } from './oauth.ts';
import type { AwsCredential, ExchangeInput } from './types.ts';

export const STS_API_VERSION = '2011-06-15';
const SESSION_SECONDS = 3600;

export function stsUrl(region: string): string {
  return `https://sts.${region}.amazonaws.com/`;
}

/** RoleSessionName allows `[\w+=,.@-]{2,64}`; it shows up in CloudTrail, so it names the pod. */
export function roleSessionName(name: string): string {
  const cleaned = `chaperone-${name}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : 'chaperone';
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: true });

type Xml = Record<string, unknown>;
const child = (node: unknown, name: string): unknown =>
  node !== null && typeof node === 'object' ? (node as Xml)[name] : undefined;

export async function exchangeAws(input: ExchangeInput): Promise<AwsCredential> {
  const { spec } = input;
  const url = spec.tokenURL ?? stsUrl(spec.region ?? '');
  const response = await input.endpoints.post(input.provider, {
    url,
    form: {
      Action: 'AssumeRoleWithWebIdentity',
      Version: STS_API_VERSION,
      RoleArn: spec.roleARN ?? '',
      RoleSessionName: roleSessionName(input.sessionName),
      WebIdentityToken: input.subjectToken,
      DurationSeconds: String(SESSION_SECONDS),
    },
    headers: { accept: 'text/xml' },
  });
  let document: unknown;
  try {
    document = parser.parse(response.body);
  } catch {
    document = undefined;
  }
  if (response.status !== 200) {
    const error = child(child(document, 'ErrorResponse'), 'Error');
    const code = child(error, 'Code');
    const message = child(error, 'Message');
    const detail =
      typeof code === 'string' ? `: ${code}${typeof message === 'string' ? ` (${message})` : ''}` : '';
    throw new IdentityError(
      'EXCHANGE_REFUSED',
      `AWS STS (${url}) refused AssumeRoleWithWebIdentity for ${spec.roleARN}: ${excerpt(`${response.status}${detail}`, [input.subjectToken])}`,
    );
  }
  const credentials = child(
    child(child(document, 'AssumeRoleWithWebIdentityResponse'), 'AssumeRoleWithWebIdentityResult'),
    'Credentials',
  );
  const field = (name: string): string => {
    const value = child(credentials, name);
    if (typeof value !== 'string' || value === '')
      throw new IdentityError('EXCHANGE_REFUSED', `AWS STS (${url}) answered without Credentials.${name}`);
    return value;
  };
  const expiresAt = Date.parse(field('Expiration'));
  if (!Number.isFinite(expiresAt))
    throw new IdentityError('EXCHANGE_REFUSED', `AWS STS (${url}) answered an unusable Expiration`);
  return {
    kind: 'aws',
    accessKeyId: field('AccessKeyId'),
    secretAccessKey: field('SecretAccessKey'),
    sessionToken: field('SessionToken'),
    expiresAt,
  };
}
